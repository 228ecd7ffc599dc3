using System.Runtime.CompilerServices;

namespace GraphCompiler;

/// <summary>
/// A zero-initialized float buffer on the pinned heap whose first element is 64-byte aligned, so that
/// generated kernels can keep raw pointers into it for the buffer's lifetime. No <c>Dispose</c> is
/// needed: the garbage collector frees it like any array.
/// </summary>
public sealed unsafe class AlignedBuffer
{
    private const int AlignmentFloats = 16; // 64 bytes: one cache line, one 512-bit vector
    private readonly float[] _storage;
    private readonly int _start;

    public AlignedBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _storage = GC.AllocateArray<float>(length + AlignmentFloats, pinned: true);
        nuint address = (nuint)Unsafe.AsPointer(ref _storage[0]);
        _start = (int)((64 - (address & 63)) & 63) / sizeof(float);
        Pointer = (float*)Unsafe.AsPointer(ref _storage[_start]);
    }

    /// <summary>Number of floats.</summary>
    public int Length { get; }

    /// <summary>Address of the first element (64-byte aligned, stable: the array is pinned).</summary>
    public float* Pointer { get; }

    public Span<float> Span => _storage.AsSpan(_start, Length);

    public void Clear() => Span.Clear();
}
