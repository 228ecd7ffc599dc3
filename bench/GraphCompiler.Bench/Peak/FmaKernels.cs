using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Bench.Peak;

/// <summary>
/// The peak-FMA kernels: 12 independent dependency chains of fused multiply-adds per vector width, enough
/// to cover the FMA latency times the number of FMA pipes of current x64 cores (4 cycles x 2 pipes), so the
/// loop runs at the core's FMA throughput. Each chain computes c = c * a + b with a just below 1, which
/// converges to a fixed point: no overflow, no denormals, whatever the iteration count.
/// </summary>
/// <remarks>
/// <c>AggressiveOptimization</c> skips tier-0 code and on-stack replacement, so the first call is already
/// the final code. The result is returned so the JIT cannot drop the chains.
/// </remarks>
public static class FmaKernels
{
    /// <summary>Independent accumulator chains per kernel.</summary>
    public const int Chains = 12;

    private const float Multiplier = 0.999999f;
    private const float Addend = 1e-6f;

    /// <summary>Floating-point operations of one call: 2 per lane per FMA.</summary>
    public static double Flops(long iterations, int lanes) => 2.0 * Chains * lanes * iterations;

    /// <summary>12 independent 512-bit FMA chains, <paramref name="iterations"/> FMAs each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector512Chains(long iterations)
    {
        Vector512<float> a = Vector512.Create(Multiplier);
        Vector512<float> b = Vector512.Create(Addend);
        Vector512<float> c0 = Vector512.Create(1 * 0.01f);
        Vector512<float> c1 = Vector512.Create(2 * 0.01f);
        Vector512<float> c2 = Vector512.Create(3 * 0.01f);
        Vector512<float> c3 = Vector512.Create(4 * 0.01f);
        Vector512<float> c4 = Vector512.Create(5 * 0.01f);
        Vector512<float> c5 = Vector512.Create(6 * 0.01f);
        Vector512<float> c6 = Vector512.Create(7 * 0.01f);
        Vector512<float> c7 = Vector512.Create(8 * 0.01f);
        Vector512<float> c8 = Vector512.Create(9 * 0.01f);
        Vector512<float> c9 = Vector512.Create(10 * 0.01f);
        Vector512<float> c10 = Vector512.Create(11 * 0.01f);
        Vector512<float> c11 = Vector512.Create(12 * 0.01f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b);
            c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b);
            c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b);
            c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b);
            c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }

        Vector512<float> s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector512.Sum(s);
    }

    /// <summary>12 independent 256-bit FMA chains, <paramref name="iterations"/> FMAs each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector256Chains(long iterations)
    {
        Vector256<float> a = Vector256.Create(Multiplier);
        Vector256<float> b = Vector256.Create(Addend);
        Vector256<float> c0 = Vector256.Create(1 * 0.01f);
        Vector256<float> c1 = Vector256.Create(2 * 0.01f);
        Vector256<float> c2 = Vector256.Create(3 * 0.01f);
        Vector256<float> c3 = Vector256.Create(4 * 0.01f);
        Vector256<float> c4 = Vector256.Create(5 * 0.01f);
        Vector256<float> c5 = Vector256.Create(6 * 0.01f);
        Vector256<float> c6 = Vector256.Create(7 * 0.01f);
        Vector256<float> c7 = Vector256.Create(8 * 0.01f);
        Vector256<float> c8 = Vector256.Create(9 * 0.01f);
        Vector256<float> c9 = Vector256.Create(10 * 0.01f);
        Vector256<float> c10 = Vector256.Create(11 * 0.01f);
        Vector256<float> c11 = Vector256.Create(12 * 0.01f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b);
            c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b);
            c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b);
            c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b);
            c10 = Vector256.FusedMultiplyAdd(c10, a, b);
            c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }

        Vector256<float> s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector256.Sum(s);
    }

    /// <summary>12 independent 128-bit FMA chains, <paramref name="iterations"/> FMAs each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Vector128Chains(long iterations)
    {
        Vector128<float> a = Vector128.Create(Multiplier);
        Vector128<float> b = Vector128.Create(Addend);
        Vector128<float> c0 = Vector128.Create(1 * 0.01f);
        Vector128<float> c1 = Vector128.Create(2 * 0.01f);
        Vector128<float> c2 = Vector128.Create(3 * 0.01f);
        Vector128<float> c3 = Vector128.Create(4 * 0.01f);
        Vector128<float> c4 = Vector128.Create(5 * 0.01f);
        Vector128<float> c5 = Vector128.Create(6 * 0.01f);
        Vector128<float> c6 = Vector128.Create(7 * 0.01f);
        Vector128<float> c7 = Vector128.Create(8 * 0.01f);
        Vector128<float> c8 = Vector128.Create(9 * 0.01f);
        Vector128<float> c9 = Vector128.Create(10 * 0.01f);
        Vector128<float> c10 = Vector128.Create(11 * 0.01f);
        Vector128<float> c11 = Vector128.Create(12 * 0.01f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, a, b);
            c1 = Vector128.FusedMultiplyAdd(c1, a, b);
            c2 = Vector128.FusedMultiplyAdd(c2, a, b);
            c3 = Vector128.FusedMultiplyAdd(c3, a, b);
            c4 = Vector128.FusedMultiplyAdd(c4, a, b);
            c5 = Vector128.FusedMultiplyAdd(c5, a, b);
            c6 = Vector128.FusedMultiplyAdd(c6, a, b);
            c7 = Vector128.FusedMultiplyAdd(c7, a, b);
            c8 = Vector128.FusedMultiplyAdd(c8, a, b);
            c9 = Vector128.FusedMultiplyAdd(c9, a, b);
            c10 = Vector128.FusedMultiplyAdd(c10, a, b);
            c11 = Vector128.FusedMultiplyAdd(c11, a, b);
        }

        Vector128<float> s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return Vector128.Sum(s);
    }

    /// <summary>12 independent scalar FMA chains (<c>MathF.FusedMultiplyAdd</c>), <paramref name="iterations"/> FMAs each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static float ScalarChains(long iterations)
    {
        float a = Multiplier;
        float b = Addend;
        float c0 = 1 * 0.01f;
        float c1 = 2 * 0.01f;
        float c2 = 3 * 0.01f;
        float c3 = 4 * 0.01f;
        float c4 = 5 * 0.01f;
        float c5 = 6 * 0.01f;
        float c6 = 7 * 0.01f;
        float c7 = 8 * 0.01f;
        float c8 = 9 * 0.01f;
        float c9 = 10 * 0.01f;
        float c10 = 11 * 0.01f;
        float c11 = 12 * 0.01f;
        for (long i = 0; i < iterations; i++)
        {
            c0 = MathF.FusedMultiplyAdd(c0, a, b);
            c1 = MathF.FusedMultiplyAdd(c1, a, b);
            c2 = MathF.FusedMultiplyAdd(c2, a, b);
            c3 = MathF.FusedMultiplyAdd(c3, a, b);
            c4 = MathF.FusedMultiplyAdd(c4, a, b);
            c5 = MathF.FusedMultiplyAdd(c5, a, b);
            c6 = MathF.FusedMultiplyAdd(c6, a, b);
            c7 = MathF.FusedMultiplyAdd(c7, a, b);
            c8 = MathF.FusedMultiplyAdd(c8, a, b);
            c9 = MathF.FusedMultiplyAdd(c9, a, b);
            c10 = MathF.FusedMultiplyAdd(c10, a, b);
            c11 = MathF.FusedMultiplyAdd(c11, a, b);
        }

        float s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
        return s;
    }
}
