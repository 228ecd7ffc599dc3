using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler;

/// <summary>
/// Element-wise functions that generated kernels call, one overload per vector width, inlined into the
/// kernels (no call, so a kernel's registers survive them). They share one exp: x = n ln 2 + r with
/// |r| &lt;= ln 2 / 2 (a two-part ln 2, so the reduction is exact), e^r by its degree-6 Taylor polynomial
/// (truncation below 2e-8 relative) and 2^n from the exponent bits; arguments are clamped to the normal
/// range. Tanh is written through exp of a negative argument, so it never overflows.
/// <para>
/// Error bounds, tested against double precision on every width over [-30, 30] and at the extremes:
/// <see cref="Sigmoid(Vector512{float})"/> within <see cref="SigmoidMaxError"/> and
/// <see cref="Tanh(Vector512{float})"/> within <see cref="TanhMaxError"/> (absolute), a few float ulps.
/// The scalar overloads use <see cref="MathF"/>.
/// </para>
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorMath
{
    /// <summary>Largest absolute error of Sigmoid against the exact value, any width.</summary>
    public const float SigmoidMaxError = 1.2e-7f;

    /// <summary>Largest absolute error of Tanh against the exact value, any width.</summary>
    public const float TanhMaxError = 1.5e-7f;

    // Clamp bounds: e^x stays a normal float, and 2^n has a valid biased exponent. n is then a whole number in
    // [-126, 127], where the native float-to-int conversion is exact (the saturating one takes four instructions on x86).
    private const float ExpLow = -87.3f;
    private const float ExpHigh = 88.3f;
    private const float Log2E = 1.44269504f;
    private const float Ln2High = 0.693145751953125f; // few mantissa bits: n * Ln2High is exact
    private const float Ln2Low = 1.42860677e-6f;
    private const float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120, C6 = 1f / 720;

    /// <summary>e^x for each lane (see the class remarks for the method and its accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLow)), Vector512.Create(ExpHigh));
        Vector512<float> n = Vector512.Round(x * Vector512.Create(Log2E));
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(C6), r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        Vector512<int> scale = Vector512.ShiftLeft(Vector512.ConvertToInt32Native(n) + Vector512.Create(127), 23);
        return p * scale.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    /// <summary>tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<float> e = Exp(Vector512.Abs(x) * Vector512.Create(-2f));
        Vector512<float> t = (Vector512<float>.One - e) / (Vector512<float>.One + e);
        return Vector512.CopySign(t, x);
    }

    /// <summary>e^x for each lane (see the class remarks for the method and its accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLow)), Vector256.Create(ExpHigh));
        Vector256<float> n = Vector256.Round(x * Vector256.Create(Log2E));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(C6), r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        Vector256<int> scale = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23);
        return p * scale.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> e = Exp(Vector256.Abs(x) * Vector256.Create(-2f));
        Vector256<float> t = (Vector256<float>.One - e) / (Vector256<float>.One + e);
        return Vector256.CopySign(t, x);
    }

    /// <summary>e^x for each lane (see the class remarks for the method and its accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(ExpLow)), Vector128.Create(ExpHigh));
        Vector128<float> n = Vector128.Round(x * Vector128.Create(Log2E));
        Vector128<float> r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2High), x);
        r = Vector128.MultiplyAddEstimate(n, Vector128.Create(-Ln2Low), r);
        Vector128<float> p = Vector128.MultiplyAddEstimate(Vector128.Create(C6), r, Vector128.Create(C5));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(C4));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(C3));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(C2));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128<float>.One);
        p = Vector128.MultiplyAddEstimate(p, r, Vector128<float>.One);
        Vector128<int> scale = Vector128.ShiftLeft(Vector128.ConvertToInt32Native(n) + Vector128.Create(127), 23);
        return p * scale.AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) => Vector128<float>.One / (Vector128<float>.One + Exp(-x));

    /// <summary>tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) in (0, 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        Vector128<float> e = Exp(Vector128.Abs(x) * Vector128.Create(-2f));
        Vector128<float> t = (Vector128<float>.One - e) / (Vector128<float>.One + e);
        return Vector128.CopySign(t, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Tanh(float x) => MathF.Tanh(x);
}
