using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GraphCompiler.Bench.Bandwidth;

/// <summary>
/// A 64-byte aligned native buffer of floats for the read kernels, filled with small values (no
/// denormals, no overflow however often it is summed), and the number of sweeps that make one call read
/// about <see cref="BytesPerCall"/>.
/// </summary>
public sealed unsafe class ReadBuffer : IDisposable
{
    /// <summary>About this many bytes per call, whatever the buffer's size (~40 us from L2).</summary>
    public const long BytesPerCall = 4 << 20;

    public ReadBuffer(int bytes)
    {
        if (bytes < ReadKernels.Vector512Block * sizeof(float) || bytes % (ReadKernels.Vector512Block * sizeof(float)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"a multiple of {ReadKernels.Vector512Block * sizeof(float)} bytes");
        }

        Bytes = bytes;
        Floats = bytes / sizeof(float);
        Pointer = (float*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        for (int i = 0; i < Floats; i++)
        {
            Pointer[i] = 1e-3f * ((i % 7) + 1);
        }

        Passes = (int)Math.Max(1, BytesPerCall / bytes);
    }

    public float* Pointer { get; private set; }

    public int Bytes { get; }

    public int Floats { get; }

    /// <summary>Sweeps per call.</summary>
    public int Passes { get; }

    /// <summary>Bytes one call reads: <see cref="Bytes"/> x <see cref="Passes"/>.</summary>
    public long BytesRead => (long)Bytes * Passes;

    /// <summary>One call of the widest kernel.</summary>
    public float Read() => ReadKernels.WidestRead(Pointer, Floats, Passes);

    public void Dispose()
    {
        if (Pointer != null)
        {
            NativeMemory.AlignedFree(Pointer);
            Pointer = null;
        }
    }

    /// <summary>
    /// The read bandwidth of this machine at one buffer size, now, in GB/s (10^9 bytes per second): the
    /// widest kernel, best of many short slices over about <paramref name="duration"/> (as the startup FMA
    /// peak is measured), so the figure belongs to the run that quotes it. The reportable measurement is
    /// the <see cref="L2Bandwidth"/> suite.
    /// </summary>
    public static double MeasureGigabytesPerSecond(int bytes, TimeSpan duration)
    {
        using var buffer = new ReadBuffer(bytes);
        float sink = buffer.Read();
        double best = double.MaxValue;
        long budget = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() - start < budget)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += buffer.Read();
            long t1 = Stopwatch.GetTimestamp();
            best = Math.Min(best, (t1 - t0) / (double)Stopwatch.Frequency);
        }

        GC.KeepAlive(sink);
        return buffer.BytesRead / best / 1e9;
    }
}
