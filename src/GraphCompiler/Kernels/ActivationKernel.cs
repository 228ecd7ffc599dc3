using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// The exact GELU of nn.GELU() (approximate='none'): gelu(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), and its gradient
/// Φ(x) + x·φ(x). erf is a rational function (an odd degree-13 numerator over a degree-8 denominator in x²,
/// the fit used by Eigen and XLA) on x clamped to [-4, 4], where erf(±4) rounds to ±1 in float; the same
/// formula runs on every width and in scalar code, so all paths agree to rounding.
/// </summary>
public static unsafe class ActivationKernel
{
    /// <summary>
    /// Largest absolute error of <see cref="Gelu"/> and <see cref="GeluBackward"/> (per unit dy) against double
    /// precision, relative to max(1, |x|) (float rounding of x itself dominates for large |x|); tested on every
    /// width over [-12, 12] and at the extremes.
    /// </summary>
    public const float GeluMaxError = 5e-7f;

    private const float ErfClamp = 4f;
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    // erf(x) ≈ x·P(x²)/Q(x²).
    private const float A1 = -1.60960333262415e-02f, A3 = -2.95459980854025e-03f, A5 = -7.34990630326855e-04f;
    private const float A7 = -5.69250639462346e-05f, A9 = -2.10102402082508e-06f, A11 = 2.77068142495902e-08f;
    private const float A13 = -2.72614225801306e-10f;
    private const float B0 = -1.42647390514189e-02f, B2 = -7.37332916720468e-03f, B4 = -1.68282697438203e-03f;
    private const float B6 = -2.13374055278905e-04f, B8 = -1.45660718464996e-05f;

    /// <summary>y = gelu(x); <paramref name="y"/> may equal <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu(float* x, float* y, int length)
    {
        int e = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; e + 16 <= length; e += 16)
            {
                Vector512<float> v = Vector512.Load(x + e);
                (v * Vector512.Create(0.5f) * (Vector512<float>.One + Erf(v * InvSqrt2))).Store(y + e);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; e + 8 <= length; e += 8)
            {
                Vector256<float> v = Vector256.Load(x + e);
                (v * Vector256.Create(0.5f) * (Vector256<float>.One + Erf(v * InvSqrt2))).Store(y + e);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; e + 4 <= length; e += 4)
            {
                Vector128<float> v = Vector128.Load(x + e);
                (v * Vector128.Create(0.5f) * (Vector128<float>.One + Erf(v * InvSqrt2))).Store(y + e);
            }
        }

        for (; e < length; e++)
        {
            float v = x[e];
            y[e] = v * 0.5f * (1f + Erf(v * InvSqrt2));
        }
    }

    /// <summary>
    /// dx = (accumulate ? dx : 0) + dy·(Φ(x) + x·φ(x)) from the forward input <paramref name="x"/>;
    /// <paramref name="dx"/> may equal <paramref name="dy"/> or <paramref name="x"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GeluBackward(float* x, float* dy, float* dx, int length, bool accumulate)
    {
        int e = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; e + 16 <= length; e += 16)
            {
                Vector512<float> v = Vector512.Load(x + e);
                Vector512<float> cdf = Vector512.Create(0.5f) * (Vector512<float>.One + Erf(v * InvSqrt2));
                Vector512<float> pdf = VectorMath.Exp(v * v * -0.5f) * InvSqrt2Pi;
                Vector512<float> g = Vector512.Load(dy + e) * Vector512.FusedMultiplyAdd(v, pdf, cdf);
                (accumulate ? Vector512.Load(dx + e) + g : g).Store(dx + e);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; e + 8 <= length; e += 8)
            {
                Vector256<float> v = Vector256.Load(x + e);
                Vector256<float> cdf = Vector256.Create(0.5f) * (Vector256<float>.One + Erf(v * InvSqrt2));
                Vector256<float> pdf = VectorMath.Exp(v * v * -0.5f) * InvSqrt2Pi;
                Vector256<float> g = Vector256.Load(dy + e) * Vector256.FusedMultiplyAdd(v, pdf, cdf);
                (accumulate ? Vector256.Load(dx + e) + g : g).Store(dx + e);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; e + 4 <= length; e += 4)
            {
                Vector128<float> v = Vector128.Load(x + e);
                Vector128<float> cdf = Vector128.Create(0.5f) * (Vector128<float>.One + Erf(v * InvSqrt2));
                Vector128<float> pdf = VectorMath.Exp(v * v * -0.5f) * InvSqrt2Pi;
                Vector128<float> g = Vector128.Load(dy + e) * Vector128.MultiplyAddEstimate(v, pdf, cdf);
                (accumulate ? Vector128.Load(dx + e) + g : g).Store(dx + e);
            }
        }

        for (; e < length; e++)
        {
            float v = x[e];
            float cdf = 0.5f * (1f + Erf(v * InvSqrt2));
            float pdf = MathF.Exp(v * v * -0.5f) * InvSqrt2Pi;
            float g = dy[e] * (v * pdf + cdf);
            dx[e] = accumulate ? dx[e] + g : g;
        }
    }

    /// <summary>
    /// erf(x) ≈ x·P(x²)/Q(x²) on x clamped to [-4, 4]: within a few float ulps (absolute error about 1e-7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        x = Math.Clamp(x, -ErfClamp, ErfClamp);
        float x2 = x * x;
        float p = x2 * A13 + A11;
        p = x2 * p + A9;
        p = x2 * p + A7;
        p = x2 * p + A5;
        p = x2 * p + A3;
        p = x2 * p + A1;
        float d = x2 * B8 + B6;
        d = x2 * d + B4;
        d = x2 * d + B2;
        d = x2 * d + B0;
        return x * p / d;
    }

    /// <summary>erf(x) per lane: see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-ErfClamp)), Vector512.Create(ErfClamp));
        Vector512<float> x2 = x * x;
        Vector512<float> p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A13), Vector512.Create(A11));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A9));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A7));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
        p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
        Vector512<float> d = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B8), Vector512.Create(B6));
        d = Vector512.FusedMultiplyAdd(x2, d, Vector512.Create(B4));
        d = Vector512.FusedMultiplyAdd(x2, d, Vector512.Create(B2));
        d = Vector512.FusedMultiplyAdd(x2, d, Vector512.Create(B0));
        return x * p / d;
    }

    /// <summary>erf(x) per lane: see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-ErfClamp)), Vector256.Create(ErfClamp));
        Vector256<float> x2 = x * x;
        Vector256<float> p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(A13), Vector256.Create(A11));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A9));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A7));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A5));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A3));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A1));
        Vector256<float> d = Vector256.FusedMultiplyAdd(x2, Vector256.Create(B8), Vector256.Create(B6));
        d = Vector256.FusedMultiplyAdd(x2, d, Vector256.Create(B4));
        d = Vector256.FusedMultiplyAdd(x2, d, Vector256.Create(B2));
        d = Vector256.FusedMultiplyAdd(x2, d, Vector256.Create(B0));
        return x * p / d;
    }

    /// <summary>erf(x) per lane: see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Erf(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(-ErfClamp)), Vector128.Create(ErfClamp));
        Vector128<float> x2 = x * x;
        Vector128<float> p = Vector128.MultiplyAddEstimate(x2, Vector128.Create(A13), Vector128.Create(A11));
        p = Vector128.MultiplyAddEstimate(x2, p, Vector128.Create(A9));
        p = Vector128.MultiplyAddEstimate(x2, p, Vector128.Create(A7));
        p = Vector128.MultiplyAddEstimate(x2, p, Vector128.Create(A5));
        p = Vector128.MultiplyAddEstimate(x2, p, Vector128.Create(A3));
        p = Vector128.MultiplyAddEstimate(x2, p, Vector128.Create(A1));
        Vector128<float> d = Vector128.MultiplyAddEstimate(x2, Vector128.Create(B8), Vector128.Create(B6));
        d = Vector128.MultiplyAddEstimate(x2, d, Vector128.Create(B4));
        d = Vector128.MultiplyAddEstimate(x2, d, Vector128.Create(B2));
        d = Vector128.MultiplyAddEstimate(x2, d, Vector128.Create(B0));
        return x * p / d;
    }
}
