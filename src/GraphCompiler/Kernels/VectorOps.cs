using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GraphCompiler.Kernels;

/// <summary>
/// Short vector loops shared by the kernels (dot product, axpy, sums over one contiguous run of floats). Each
/// walks the widest accelerated width first and finishes the remainder on the narrower ones and then in scalar
/// code, so any length works on any machine. All are inlined into their callers.
/// </summary>
internal static unsafe class VectorOps
{
    /// <summary>Σ a[p]·b[p] over <paramref name="n"/> elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int p = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; p + 32 <= n; p += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b + p), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p + 16), Vector512.Load(b + p + 16), acc1);
            }

            for (; p + 16 <= n; p += 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b + p), acc0);
            }

            s = Vector512.Sum(acc0 + acc1);
        }

        if (Vector256.IsHardwareAccelerated && p + 8 <= n)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; p + 16 <= n; p += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p + 8), Vector256.Load(b + p + 8), acc1);
            }

            for (; p + 8 <= n; p += 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), acc0);
            }

            s += Vector256.Sum(acc0 + acc1);
        }

        if (Vector128.IsHardwareAccelerated && p + 4 <= n)
        {
            Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero;
            for (; p + 8 <= n; p += 8)
            {
                acc0 = Vector128.MultiplyAddEstimate(Vector128.Load(a + p), Vector128.Load(b + p), acc0);
                acc1 = Vector128.MultiplyAddEstimate(Vector128.Load(a + p + 4), Vector128.Load(b + p + 4), acc1);
            }

            for (; p + 4 <= n; p += 4)
            {
                acc0 = Vector128.MultiplyAddEstimate(Vector128.Load(a + p), Vector128.Load(b + p), acc0);
            }

            s += Vector128.Sum(acc0 + acc1);
        }

        for (; p < n; p++)
        {
            s += a[p] * b[p];
        }

        return s;
    }

    /// <summary>y[p] += alpha·x[p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, float* x, float* y, int n)
    {
        int p = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(alpha);
            for (; p + 16 <= n; p += 16)
            {
                Vector512.FusedMultiplyAdd(va, Vector512.Load(x + p), Vector512.Load(y + p)).Store(y + p);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(alpha);
            for (; p + 8 <= n; p += 8)
            {
                Vector256.FusedMultiplyAdd(va, Vector256.Load(x + p), Vector256.Load(y + p)).Store(y + p);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> va = Vector128.Create(alpha);
            for (; p + 4 <= n; p += 4)
            {
                Vector128.MultiplyAddEstimate(va, Vector128.Load(x + p), Vector128.Load(y + p)).Store(y + p);
            }
        }

        for (; p < n; p++)
        {
            y[p] += alpha * x[p];
        }
    }

    /// <summary>y[p] *= s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(float* y, float s, int n)
    {
        int p = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; p + 16 <= n; p += 16)
            {
                (Vector512.Load(y + p) * s).Store(y + p);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; p + 8 <= n; p += 8)
            {
                (Vector256.Load(y + p) * s).Store(y + p);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; p + 4 <= n; p += 4)
            {
                (Vector128.Load(y + p) * s).Store(y + p);
            }
        }

        for (; p < n; p++)
        {
            y[p] *= s;
        }
    }

    /// <summary>y[p] += x[p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(float* x, float* y, int n)
    {
        int p = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; p + 16 <= n; p += 16)
            {
                (Vector512.Load(y + p) + Vector512.Load(x + p)).Store(y + p);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; p + 8 <= n; p += 8)
            {
                (Vector256.Load(y + p) + Vector256.Load(x + p)).Store(y + p);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; p + 4 <= n; p += 4)
            {
                (Vector128.Load(y + p) + Vector128.Load(x + p)).Store(y + p);
            }
        }

        for (; p < n; p++)
        {
            y[p] += x[p];
        }
    }

    /// <summary>Σ x[p].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float* x, int n)
    {
        int p = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; p + 16 <= n; p += 16)
            {
                acc += Vector512.Load(x + p);
            }

            s = Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated && p + 8 <= n)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; p + 8 <= n; p += 8)
            {
                acc += Vector256.Load(x + p);
            }

            s += Vector256.Sum(acc);
        }

        if (Vector128.IsHardwareAccelerated && p + 4 <= n)
        {
            Vector128<float> acc = Vector128<float>.Zero;
            for (; p + 4 <= n; p += 4)
            {
                acc += Vector128.Load(x + p);
            }

            s += Vector128.Sum(acc);
        }

        for (; p < n; p++)
        {
            s += x[p];
        }

        return s;
    }

    /// <summary>max over x[p] (-∞ for n = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float* x, int n)
    {
        int p = 0;
        float m = float.NegativeInfinity;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512.Create(float.NegativeInfinity);
            for (; p + 16 <= n; p += 16)
            {
                acc = Vector512.Max(acc, Vector512.Load(x + p));
            }

            Vector256<float> h = Vector256.Max(acc.GetLower(), acc.GetUpper());
            m = MaxLanes(Vector128.Max(h.GetLower(), h.GetUpper()));
        }

        if (Vector256.IsHardwareAccelerated && p + 8 <= n)
        {
            Vector256<float> acc = Vector256.Create(float.NegativeInfinity);
            for (; p + 8 <= n; p += 8)
            {
                acc = Vector256.Max(acc, Vector256.Load(x + p));
            }

            m = MathF.Max(m, MaxLanes(Vector128.Max(acc.GetLower(), acc.GetUpper())));
        }

        if (Vector128.IsHardwareAccelerated && p + 4 <= n)
        {
            Vector128<float> acc = Vector128.Create(float.NegativeInfinity);
            for (; p + 4 <= n; p += 4)
            {
                acc = Vector128.Max(acc, Vector128.Load(x + p));
            }

            m = MathF.Max(m, MaxLanes(acc));
        }

        for (; p < n; p++)
        {
            m = MathF.Max(m, x[p]);
        }

        return m;
    }

    /// <summary>[Σa, Σb, Σc, Σd]: the four horizontal sums in one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> HorizontalSums(Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d)
    {
        if (Sse3.IsSupported)
        {
            return Sse3.HorizontalAdd(Sse3.HorizontalAdd(a, b), Sse3.HorizontalAdd(c, d));
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a, b), AdvSimd.Arm64.AddPairwise(c, d));
        }

        return Vector128.Create(Vector128.Sum(a), Vector128.Sum(b), Vector128.Sum(c), Vector128.Sum(d));
    }

    /// <summary>A 512-bit accumulator folded to 128 bits (lane sums preserved).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fold(Vector512<float> v)
    {
        Vector256<float> h = v.GetLower() + v.GetUpper();
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>A 256-bit accumulator folded to 128 bits (lane sums preserved).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fold(Vector256<float> v) => v.GetLower() + v.GetUpper();

    /// <summary>Math.Max of a vector's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxLanes(Vector128<float> v) =>
        MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));
}
