using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// nn.LayerNorm over the last dimension of a <c>[rows, n]</c> tensor (contiguous rows): biased variance, eps
/// inside the square root, optional elementwise affine (<c>gamma</c>/<c>beta</c> null means 1/0).
/// </summary>
public static unsafe class LayerNormKernel
{
    /// <summary>
    /// y = (x - mean) / sqrt(var + eps) · gamma + beta per row. <paramref name="y"/> may equal <paramref name="x"/>
    /// (in place; no other overlap). When <paramref name="stats"/> is not null it receives, per row r,
    /// stats[2r] = mean and stats[2r + 1] = 1 / sqrt(var + eps) for <see cref="Backward"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* y, int rows, int n, float* gamma, float* beta, float eps, float* stats)
    {
        int r = 0;
        if (Vector512.IsHardwareAccelerated && n % 16 == 0)
        {
            r = ForwardPairs<Lanes512>(x, y, rows, n, gamma, beta, eps, stats);
        }
        else if (Vector256.IsHardwareAccelerated && n % 8 == 0)
        {
            r = ForwardPairs<Lanes256>(x, y, rows, n, gamma, beta, eps, stats);
        }
        else if (Vector128.IsHardwareAccelerated && n % 4 == 0)
        {
            r = ForwardPairs<Lanes128>(x, y, rows, n, gamma, beta, eps, stats);
        }

        for (; r < rows; r++)
        {
            float* xr = x + (nint)r * n;
            float* yr = y + (nint)r * n;
            float mean = VectorOps.Sum(xr, n) / n;
            float variance = SquaredDeviations(xr, mean, n) / n; // two passes: no cancellation
            float rstd = 1f / MathF.Sqrt(variance + eps);
            if (stats != null)
            {
                stats[2 * (nint)r] = mean;
                stats[2 * (nint)r + 1] = rstd;
            }

            Normalize(xr, yr, n, mean, rstd, gamma, beta);
        }
    }

    /// <summary>
    /// <see cref="Forward"/> for rows whose length is a multiple of the vector width, two rows at a time: each row is a
    /// chain of dependent steps (sum, mean, squared deviations, 1/sqrt), and interleaving two keeps the core busy while
    /// one waits. Same passes and formulas as the row-by-row loop. Returns the number of rows done (the even part).
    /// </summary>
    private static int ForwardPairs<TV>(float* x, float* y, int rows, int n, float* gamma, float* beta, float eps, float* stats)
        where TV : struct, ISimdLanes<TV>
    {
        int lanes = TV.Count, r = 0;
        for (; r + 2 <= rows; r += 2)
        {
            float* xa = x + (nint)r * n, xb = xa + n, ya = y + (nint)r * n, yb = ya + n;
            TV sa = TV.Zero, sb = TV.Zero;
            for (int j = 0; j < n; j += lanes)
            {
                sa = TV.Add(sa, TV.Load(xa + j));
                sb = TV.Add(sb, TV.Load(xb + j));
            }

            float meanA = TV.Sum(sa) / n, meanB = TV.Sum(sb) / n;
            TV ma = TV.Broadcast(meanA), mb = TV.Broadcast(meanB), qa = TV.Zero, qb = TV.Zero;
            for (int j = 0; j < n; j += lanes)
            {
                TV da = TV.Subtract(TV.Load(xa + j), ma), db = TV.Subtract(TV.Load(xb + j), mb);
                qa = TV.MultiplyAdd(da, da, qa);
                qb = TV.MultiplyAdd(db, db, qb);
            }

            float rstdA = 1f / MathF.Sqrt((TV.Sum(qa) / n) + eps), rstdB = 1f / MathF.Sqrt((TV.Sum(qb) / n) + eps);
            if (stats != null)
            {
                stats[2 * (nint)r] = meanA;
                stats[2 * (nint)r + 1] = rstdA;
                stats[2 * (nint)r + 2] = meanB;
                stats[2 * (nint)r + 3] = rstdB;
            }

            TV ra = TV.Broadcast(rstdA), rb = TV.Broadcast(rstdB);
            for (int j = 0; j < n; j += lanes)
            {
                TV va = TV.Multiply(TV.Subtract(TV.Load(xa + j), ma), ra), vb = TV.Multiply(TV.Subtract(TV.Load(xb + j), mb), rb);
                if (gamma != null)
                {
                    TV g = TV.Load(gamma + j);
                    va = TV.Multiply(va, g);
                    vb = TV.Multiply(vb, g);
                }

                if (beta != null)
                {
                    TV b = TV.Load(beta + j);
                    va = TV.Add(va, b);
                    vb = TV.Add(vb, b);
                }

                TV.Store(va, ya + j);
                TV.Store(vb, yb + j);
            }
        }

        return r;
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> from its input <paramref name="x"/> and saved
    /// <paramref name="stats"/>: dx = (accumulate ? dx : 0) + rstd·(g - mean(g) - x̂·mean(g·x̂)) with
    /// g = dy·gamma and x̂ = (x - mean)·rstd; dgamma[j] += Σ_r dy·x̂ and dbeta[j] += Σ_r dy (each skipped when null).
    /// </summary>
    /// <remarks>
    /// Every element of dx is written after the same element of x and dy is read for the last time, so
    /// <paramref name="dx"/> may be the very same memory as <paramref name="dy"/> or <paramref name="x"/>
    /// (with accumulate, dx == dy then means dy + the gradient). Partial overlaps are not supported.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(
        float* x, float* dy, float* stats, float* gamma, int rows, int n, float* dx, bool accumulate, float* dgamma, float* dbeta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (nint)r * n;
            float* dyr = dy + (nint)r * n;
            float* dxr = dx + (nint)r * n;
            float mean = stats[2 * (nint)r], rstd = stats[2 * (nint)r + 1];
            float sumG = 0f, sumGX = 0f;
            int j = 0;

            // Pass 1: Σ g, Σ g·x̂ and the parameter gradients.
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> sg = Vector512<float>.Zero, sgx = Vector512<float>.Zero;
                for (; j + 16 <= n; j += 16)
                {
                    Vector512<float> xh = (Vector512.Load(xr + j) - Vector512.Create(mean)) * rstd;
                    Vector512<float> d = Vector512.Load(dyr + j);
                    Vector512<float> g = gamma != null ? d * Vector512.Load(gamma + j) : d;
                    sg += g;
                    sgx = Vector512.FusedMultiplyAdd(g, xh, sgx);
                    if (dgamma != null)
                    {
                        Vector512.FusedMultiplyAdd(d, xh, Vector512.Load(dgamma + j)).Store(dgamma + j);
                    }

                    if (dbeta != null)
                    {
                        (Vector512.Load(dbeta + j) + d).Store(dbeta + j);
                    }
                }

                sumG += Vector512.Sum(sg);
                sumGX += Vector512.Sum(sgx);
            }

            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> sg = Vector256<float>.Zero, sgx = Vector256<float>.Zero;
                for (; j + 8 <= n; j += 8)
                {
                    Vector256<float> xh = (Vector256.Load(xr + j) - Vector256.Create(mean)) * rstd;
                    Vector256<float> d = Vector256.Load(dyr + j);
                    Vector256<float> g = gamma != null ? d * Vector256.Load(gamma + j) : d;
                    sg += g;
                    sgx = Vector256.FusedMultiplyAdd(g, xh, sgx);
                    if (dgamma != null)
                    {
                        Vector256.FusedMultiplyAdd(d, xh, Vector256.Load(dgamma + j)).Store(dgamma + j);
                    }

                    if (dbeta != null)
                    {
                        (Vector256.Load(dbeta + j) + d).Store(dbeta + j);
                    }
                }

                sumG += Vector256.Sum(sg);
                sumGX += Vector256.Sum(sgx);
            }

            if (Vector128.IsHardwareAccelerated)
            {
                Vector128<float> sg = Vector128<float>.Zero, sgx = Vector128<float>.Zero;
                for (; j + 4 <= n; j += 4)
                {
                    Vector128<float> xh = (Vector128.Load(xr + j) - Vector128.Create(mean)) * rstd;
                    Vector128<float> d = Vector128.Load(dyr + j);
                    Vector128<float> g = gamma != null ? d * Vector128.Load(gamma + j) : d;
                    sg += g;
                    sgx = Vector128.MultiplyAddEstimate(g, xh, sgx);
                    if (dgamma != null)
                    {
                        Vector128.MultiplyAddEstimate(d, xh, Vector128.Load(dgamma + j)).Store(dgamma + j);
                    }

                    if (dbeta != null)
                    {
                        (Vector128.Load(dbeta + j) + d).Store(dbeta + j);
                    }
                }

                sumG += Vector128.Sum(sg);
                sumGX += Vector128.Sum(sgx);
            }

            for (; j < n; j++)
            {
                float xh = (xr[j] - mean) * rstd;
                float d = dyr[j];
                float g = gamma != null ? d * gamma[j] : d;
                sumG += g;
                sumGX += g * xh;
                if (dgamma != null)
                {
                    dgamma[j] += d * xh;
                }

                if (dbeta != null)
                {
                    dbeta[j] += d;
                }
            }

            // Pass 2: dx = rstd·g - (rstd·mean(g) + x̂·rstd·mean(g·x̂)).
            float c0 = rstd * sumG / n, c1 = rstd * sumGX / n;
            j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= n; j += 16)
                {
                    Vector512<float> xh = (Vector512.Load(xr + j) - Vector512.Create(mean)) * rstd;
                    Vector512<float> d = Vector512.Load(dyr + j);
                    Vector512<float> g = gamma != null ? d * Vector512.Load(gamma + j) : d;
                    Vector512<float> v = g * rstd - Vector512.FusedMultiplyAdd(xh, Vector512.Create(c1), Vector512.Create(c0));
                    (accumulate ? Vector512.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= n; j += 8)
                {
                    Vector256<float> xh = (Vector256.Load(xr + j) - Vector256.Create(mean)) * rstd;
                    Vector256<float> d = Vector256.Load(dyr + j);
                    Vector256<float> g = gamma != null ? d * Vector256.Load(gamma + j) : d;
                    Vector256<float> v = g * rstd - Vector256.FusedMultiplyAdd(xh, Vector256.Create(c1), Vector256.Create(c0));
                    (accumulate ? Vector256.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            if (Vector128.IsHardwareAccelerated)
            {
                for (; j + 4 <= n; j += 4)
                {
                    Vector128<float> xh = (Vector128.Load(xr + j) - Vector128.Create(mean)) * rstd;
                    Vector128<float> d = Vector128.Load(dyr + j);
                    Vector128<float> g = gamma != null ? d * Vector128.Load(gamma + j) : d;
                    Vector128<float> v = g * rstd - Vector128.MultiplyAddEstimate(xh, Vector128.Create(c1), Vector128.Create(c0));
                    (accumulate ? Vector128.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            for (; j < n; j++)
            {
                float xh = (xr[j] - mean) * rstd;
                float g = gamma != null ? dyr[j] * gamma[j] : dyr[j];
                float v = g * rstd - (xh * c1 + c0);
                dxr[j] = accumulate ? dxr[j] + v : v;
            }
        }
    }

    /// <summary>Σ (x - mean)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SquaredDeviations(float* x, float mean, int n)
    {
        int j = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> acc = Vector512<float>.Zero, vm = Vector512.Create(mean);
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> d = Vector512.Load(x + j) - vm;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }

            s += Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc = Vector256<float>.Zero, vm = Vector256.Create(mean);
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> d = Vector256.Load(x + j) - vm;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }

            s += Vector256.Sum(acc);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> acc = Vector128<float>.Zero, vm = Vector128.Create(mean);
            for (; j + 4 <= n; j += 4)
            {
                Vector128<float> d = Vector128.Load(x + j) - vm;
                acc = Vector128.MultiplyAddEstimate(d, d, acc);
            }

            s += Vector128.Sum(acc);
        }

        for (; j < n; j++)
        {
            float d = x[j] - mean;
            s += d * d;
        }

        return s;
    }

    /// <summary>y = (x - mean)·rstd·gamma + beta (gamma, beta optional).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Normalize(float* x, float* y, int n, float mean, float rstd, float* gamma, float* beta)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> v = (Vector512.Load(x + j) - Vector512.Create(mean)) * rstd;
                if (gamma != null)
                {
                    v *= Vector512.Load(gamma + j);
                }

                if (beta != null)
                {
                    v += Vector512.Load(beta + j);
                }

                v.Store(y + j);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> v = (Vector256.Load(x + j) - Vector256.Create(mean)) * rstd;
                if (gamma != null)
                {
                    v *= Vector256.Load(gamma + j);
                }

                if (beta != null)
                {
                    v += Vector256.Load(beta + j);
                }

                v.Store(y + j);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; j + 4 <= n; j += 4)
            {
                Vector128<float> v = (Vector128.Load(x + j) - Vector128.Create(mean)) * rstd;
                if (gamma != null)
                {
                    v *= Vector128.Load(gamma + j);
                }

                if (beta != null)
                {
                    v += Vector128.Load(beta + j);
                }

                v.Store(y + j);
            }
        }

        for (; j < n; j++)
        {
            float v = (x[j] - mean) * rstd;
            if (gamma != null)
            {
                v *= gamma[j];
            }

            if (beta != null)
            {
                v += beta[j];
            }

            y[j] = v;
        }
    }
}
