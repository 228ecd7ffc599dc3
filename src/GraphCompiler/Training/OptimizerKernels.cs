using System.Runtime.Intrinsics;

namespace GraphCompiler;

/// <summary>
/// The element-wise update loops of the optimizers and of gradient clipping, one loop per vector width. Each
/// width handles what the wider one left, then a scalar tail; all use the same operations in the same order (no
/// fused multiply-add), so a value gets bit-identical results whichever path computes it.
/// </summary>
internal static unsafe class OptimizerKernels
{
    /// <summary>SGD without momentum: p -= lr * (g + wd * p).</summary>
    public static void Sgd(float* p, float* g, int n, float lr, float wd)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vlr = Vector512.Create(lr), vwd = Vector512.Create(wd);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.Load(p + i);
                Vector512<float> d = Vector512.Load(g + i) + vwd * pv;
                (pv - vlr * d).Store(p + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vlr = Vector256.Create(lr), vwd = Vector256.Create(wd);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.Load(p + i);
                Vector256<float> d = Vector256.Load(g + i) + vwd * pv;
                (pv - vlr * d).Store(p + i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> vlr = Vector128.Create(lr), vwd = Vector128.Create(wd);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> pv = Vector128.Load(p + i);
                Vector128<float> d = Vector128.Load(g + i) + vwd * pv;
                (pv - vlr * d).Store(p + i);
            }
        }

        for (; i < n; i++)
        {
            float d = g[i] + wd * p[i];
            p[i] = p[i] - lr * d;
        }
    }

    /// <summary>
    /// SGD with a momentum buffer b: d = g + wd * p; b = bs * b + gs * d; u = nd * d + nb * b; p -= lr * u.
    /// The coefficients encode PyTorch's cases (first step, dampening, Nesterov) without branches in the loop.
    /// </summary>
    public static void SgdMomentum(
        float* p, float* g, float* b, int n, float lr, float wd,
        float bufferScale, float gradScale, float nesterovGrad, float nesterovBuffer)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vlr = Vector512.Create(lr), vwd = Vector512.Create(wd);
            Vector512<float> vbs = Vector512.Create(bufferScale), vgs = Vector512.Create(gradScale);
            Vector512<float> vnd = Vector512.Create(nesterovGrad), vnb = Vector512.Create(nesterovBuffer);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.Load(p + i);
                Vector512<float> d = Vector512.Load(g + i) + vwd * pv;
                Vector512<float> bv = vbs * Vector512.Load(b + i) + vgs * d;
                bv.Store(b + i);
                (pv - vlr * (vnd * d + vnb * bv)).Store(p + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vlr = Vector256.Create(lr), vwd = Vector256.Create(wd);
            Vector256<float> vbs = Vector256.Create(bufferScale), vgs = Vector256.Create(gradScale);
            Vector256<float> vnd = Vector256.Create(nesterovGrad), vnb = Vector256.Create(nesterovBuffer);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.Load(p + i);
                Vector256<float> d = Vector256.Load(g + i) + vwd * pv;
                Vector256<float> bv = vbs * Vector256.Load(b + i) + vgs * d;
                bv.Store(b + i);
                (pv - vlr * (vnd * d + vnb * bv)).Store(p + i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> vlr = Vector128.Create(lr), vwd = Vector128.Create(wd);
            Vector128<float> vbs = Vector128.Create(bufferScale), vgs = Vector128.Create(gradScale);
            Vector128<float> vnd = Vector128.Create(nesterovGrad), vnb = Vector128.Create(nesterovBuffer);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> pv = Vector128.Load(p + i);
                Vector128<float> d = Vector128.Load(g + i) + vwd * pv;
                Vector128<float> bv = vbs * Vector128.Load(b + i) + vgs * d;
                bv.Store(b + i);
                (pv - vlr * (vnd * d + vnb * bv)).Store(p + i);
            }
        }

        for (; i < n; i++)
        {
            float d = g[i] + wd * p[i];
            float bv = bufferScale * b[i] + gradScale * d;
            b[i] = bv;
            p[i] = p[i] - lr * (nesterovGrad * d + nesterovBuffer * bv);
        }
    }

    /// <summary>
    /// Adam / AdamW, PyTorch's single-tensor algorithm: d = g + cd * p; p *= ps; m += w1 * (d - m);
    /// v = b2 * v + (w2 * d) * d; p -= stepSize * m / (sqrt(v) / bc2Sqrt + eps).
    /// </summary>
    /// <remarks>
    /// <c>coupledDecay</c> is Adam's L2 weight decay (0 for AdamW), <c>paramScale</c> AdamW's decoupled decay factor
    /// <c>1 - lr * wd</c> (1 for Adam), <c>w1</c> and <c>w2</c> are <c>1 - beta1</c> and <c>1 - beta2</c>.
    /// </remarks>
    public static void Adam(
        float* p, float* g, float* m, float* v, int n,
        float coupledDecay, float paramScale, float w1, float b2, float w2, float bc2Sqrt, float eps, float stepSize)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vcd = Vector512.Create(coupledDecay), vps = Vector512.Create(paramScale);
            Vector512<float> vw1 = Vector512.Create(w1), vb2 = Vector512.Create(b2), vw2 = Vector512.Create(w2);
            Vector512<float> vbc = Vector512.Create(bc2Sqrt), veps = Vector512.Create(eps), vss = Vector512.Create(stepSize);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.Load(p + i);
                Vector512<float> d = Vector512.Load(g + i) + vcd * pv;
                Vector512<float> mv = Vector512.Load(m + i);
                mv += vw1 * (d - mv);
                Vector512<float> vv = vb2 * Vector512.Load(v + i) + vw2 * d * d;
                mv.Store(m + i);
                vv.Store(v + i);
                Vector512<float> denom = Vector512.Sqrt(vv) / vbc + veps;
                (pv * vps - vss * (mv / denom)).Store(p + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vcd = Vector256.Create(coupledDecay), vps = Vector256.Create(paramScale);
            Vector256<float> vw1 = Vector256.Create(w1), vb2 = Vector256.Create(b2), vw2 = Vector256.Create(w2);
            Vector256<float> vbc = Vector256.Create(bc2Sqrt), veps = Vector256.Create(eps), vss = Vector256.Create(stepSize);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.Load(p + i);
                Vector256<float> d = Vector256.Load(g + i) + vcd * pv;
                Vector256<float> mv = Vector256.Load(m + i);
                mv += vw1 * (d - mv);
                Vector256<float> vv = vb2 * Vector256.Load(v + i) + vw2 * d * d;
                mv.Store(m + i);
                vv.Store(v + i);
                Vector256<float> denom = Vector256.Sqrt(vv) / vbc + veps;
                (pv * vps - vss * (mv / denom)).Store(p + i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> vcd = Vector128.Create(coupledDecay), vps = Vector128.Create(paramScale);
            Vector128<float> vw1 = Vector128.Create(w1), vb2 = Vector128.Create(b2), vw2 = Vector128.Create(w2);
            Vector128<float> vbc = Vector128.Create(bc2Sqrt), veps = Vector128.Create(eps), vss = Vector128.Create(stepSize);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                Vector128<float> pv = Vector128.Load(p + i);
                Vector128<float> d = Vector128.Load(g + i) + vcd * pv;
                Vector128<float> mv = Vector128.Load(m + i);
                mv += vw1 * (d - mv);
                Vector128<float> vv = vb2 * Vector128.Load(v + i) + vw2 * d * d;
                mv.Store(m + i);
                vv.Store(v + i);
                Vector128<float> denom = Vector128.Sqrt(vv) / vbc + veps;
                (pv * vps - vss * (mv / denom)).Store(p + i);
            }
        }

        for (; i < n; i++)
        {
            float pv = p[i];
            float d = g[i] + coupledDecay * pv;
            float mv = m[i];
            mv += w1 * (d - mv);
            float vv = b2 * v[i] + w2 * d * d;
            m[i] = mv;
            v[i] = vv;
            float denom = MathF.Sqrt(vv) / bc2Sqrt + eps;
            p[i] = pv * paramScale - stepSize * (mv / denom);
        }
    }

    /// <summary>Sum of squares, accumulated in double so that millions of terms keep float precision.</summary>
    public static double SumOfSquares(float* x, int n)
    {
        int i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = Vector512<double>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.Load(x + i));
                a0 += lo * lo;
                a1 += hi * hi;
            }

            total += Vector512.Sum(a0 + a1);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = Vector256<double>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.Load(x + i));
                a0 += lo * lo;
                a1 += hi * hi;
            }

            total += Vector256.Sum(a0 + a1);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> a0 = Vector128<double>.Zero, a1 = Vector128<double>.Zero;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(Vector128.Load(x + i));
                a0 += lo * lo;
                a1 += hi * hi;
            }

            total += Vector128.Sum(a0 + a1);
        }

        for (; i < n; i++)
        {
            double d = x[i];
            total += d * d;
        }

        return total;
    }

    /// <summary>x *= s.</summary>
    public static void Scale(float* x, int n, float s)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vs = Vector512.Create(s);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                (Vector512.Load(x + i) * vs).Store(x + i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vs = Vector256.Create(s);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                (Vector256.Load(x + i) * vs).Store(x + i);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> vs = Vector128.Create(s);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                (Vector128.Load(x + i) * vs).Store(x + i);
            }
        }

        for (; i < n; i++)
        {
            x[i] *= s;
        }
    }
}
