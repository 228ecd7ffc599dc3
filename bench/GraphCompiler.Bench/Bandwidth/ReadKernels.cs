using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Bench.Bandwidth;

/// <summary>
/// Read-bandwidth kernels: sweep a buffer front to back, again and again, with aligned vector loads
/// into 8 independent accumulators (more than the add latency times the load ports, so the loop waits on
/// the loads alone). Nothing is written. The sum is returned so that the JIT cannot drop the loads.
/// A batch-1 LSTM step reads its recurrent weights exactly this way: every row once, in order, with the
/// widest loads, from wherever they stay between steps (L2 for the seed's 2 x 256 KB).
/// </summary>
/// <remarks>
/// <c>AggressiveOptimization</c>: the first call runs the final code (no tier-0, no on-stack replacement).
/// </remarks>
public static unsafe class ReadKernels
{
    /// <summary>Floats read per loop iteration by the 512-bit kernel (8 vectors, 512 bytes).</summary>
    public const int Vector512Block = 8 * 16;

    /// <summary>Floats read per loop iteration by the 256-bit kernel (8 vectors, 256 bytes).</summary>
    public const int Vector256Block = 8 * 8;

    /// <summary>
    /// Reads <paramref name="floats"/> floats at <paramref name="buffer"/> (64-byte aligned, a multiple of
    /// <see cref="Vector512Block"/>) <paramref name="passes"/> times with 512-bit loads.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector512Read(float* buffer, nint floats, int passes)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int pass = 0; pass < passes; pass++)
        {
            for (float* p = buffer, end = buffer + floats; p < end; p += Vector512Block)
            {
                a0 += Vector512.LoadAligned(p);
                a1 += Vector512.LoadAligned(p + 16);
                a2 += Vector512.LoadAligned(p + 32);
                a3 += Vector512.LoadAligned(p + 48);
                a4 += Vector512.LoadAligned(p + 64);
                a5 += Vector512.LoadAligned(p + 80);
                a6 += Vector512.LoadAligned(p + 96);
                a7 += Vector512.LoadAligned(p + 112);
            }
        }

        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    /// <summary>As <see cref="Vector512Read"/> with 256-bit loads (for comparison: twice the load instructions).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector256Read(float* buffer, nint floats, int passes)
    {
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int pass = 0; pass < passes; pass++)
        {
            for (float* p = buffer, end = buffer + floats; p < end; p += Vector256Block)
            {
                a0 += Vector256.LoadAligned(p);
                a1 += Vector256.LoadAligned(p + 8);
                a2 += Vector256.LoadAligned(p + 16);
                a3 += Vector256.LoadAligned(p + 24);
                a4 += Vector256.LoadAligned(p + 32);
                a5 += Vector256.LoadAligned(p + 40);
                a6 += Vector256.LoadAligned(p + 48);
                a7 += Vector256.LoadAligned(p + 56);
            }
        }

        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
    }

    /// <summary>The widest kernel the JIT accelerates in this process (512-bit, else 256-bit).</summary>
    public static float WidestRead(float* buffer, nint floats, int passes) =>
        Vector512.IsHardwareAccelerated ? Vector512Read(buffer, floats, passes) : Vector256Read(buffer, floats, passes);

    /// <summary>The width <see cref="WidestRead"/> uses.</summary>
    public static string WidestName => Vector512.IsHardwareAccelerated ? "512-bit" : "256-bit";
}
