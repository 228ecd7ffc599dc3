using System.Buffers;

namespace GraphCompiler;

/// <summary>
/// Memory over a pinned native range (a slice of an <see cref="AlignedBuffer"/>), so that writers taking
/// <see cref="ReadOnlyMemory{T}"/> can read parameters and optimizer state without copying them.
/// </summary>
internal sealed unsafe class PointerMemory(float* pointer, int length) : MemoryManager<float>
{
    public override Span<float> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
