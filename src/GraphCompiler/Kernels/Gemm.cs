using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// Dense matrix products for Linear layers applied to every row of a <c>[rows, features]</c> tensor, on
/// row-major float data with explicit row strides (<c>lda</c>, <c>ldb</c>, <c>ldc</c>, in floats).
/// <list type="bullet">
/// <item><see cref="MultiplyTransposedB"/>: y = x Wᵀ + b with W in PyTorch layout [n][k]. Both operands are
/// contiguous along the reduction, so it runs transpose-free: a block of 4 rows of A against 4 rows of B keeps
/// 16 vector accumulators along p (8 at 256 and 128 bits, as two 2x4 blocks, so nothing spills with 16
/// registers), and the 16 horizontal sums at the end come out as one 4-float vector per row of C.</item>
/// <item><see cref="Multiply"/> (dX = dY·W), <see cref="MultiplyAddBias"/> (a row Linear with its weight packed
/// transposed) and <see cref="MultiplyTransposedA"/> (dW += dYᵀ·X): B is contiguous along the output columns,
/// so these broadcast one element of A against two vectors of a row of B into a tile of C held in registers
/// over all p: 8 rows x 2 vectors (16 accumulators) with 512-bit vectors, 4 x 2 otherwise.</item>
/// </list>
/// No operand is packed (nothing is allocated, not even on the stack); each path is chosen by the widest
/// accelerated vector width, with scalar code for the remainders and for machines without SIMD.
/// C must not overlap A or B.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>
    /// C[i][j] = (accumulate ? C[i][j] : 0) + Σ_p A[i][p]·B[j][p] (+ bias[j] when <paramref name="bias"/> is not null).
    /// </summary>
    /// <remarks>
    /// A is [m][k] with row stride lda, B is [n][k] with row stride ldb (a PyTorch Linear weight), C is [m][n] with
    /// row stride ldc, bias is [n] or null.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(
        float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int k, int n, float* bias, bool accumulate)
    {
        if (!Vector128.IsHardwareAccelerated)
        {
            ScalarTransposedB(a, lda, b, ldb, c, ldc, m, k, n, bias, accumulate);
            return;
        }

        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                Vector128<float> r0, r1, r2, r3;
                float* bj = b + (nint)j * ldb;
                if (Vector512.IsHardwareAccelerated)
                {
                    Dots4x4V512(ai, lda, bj, ldb, k, out r0, out r1, out r2, out r3);
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    Dots2x4V256(ai, lda, bj, ldb, k, out r0, out r1);
                    Dots2x4V256(ai + 2 * (nint)lda, lda, bj, ldb, k, out r2, out r3);
                }
                else
                {
                    Dots2x4V128(ai, lda, bj, ldb, k, out r0, out r1);
                    Dots2x4V128(ai + 2 * (nint)lda, lda, bj, ldb, k, out r2, out r3);
                }

                if (bias != null)
                {
                    Vector128<float> bv = Vector128.Load(bias + j);
                    r0 += bv;
                    r1 += bv;
                    r2 += bv;
                    r3 += bv;
                }

                StoreRow(ci + j, r0, accumulate);
                StoreRow(ci + ldc + j, r1, accumulate);
                StoreRow(ci + 2 * (nint)ldc + j, r2, accumulate);
                StoreRow(ci + 3 * (nint)ldc + j, r3, accumulate);
            }

            for (int q = 0; q < 4; q++)
            {
                DotColumns(ai + (nint)q * lda, b, ldb, ci + (nint)q * ldc, k, j, n, bias, accumulate);
            }
        }

        for (; i < m; i++)
        {
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                Vector128<float> r;
                float* bj = b + (nint)j * ldb;
                if (Vector512.IsHardwareAccelerated)
                {
                    Dots1x4V512(ai, lda, bj, ldb, k, out r);
                }
                else if (Vector256.IsHardwareAccelerated)
                {
                    Dots1x4V256(ai, lda, bj, ldb, k, out r);
                }
                else
                {
                    Dots1x4V128(ai, lda, bj, ldb, k, out r);
                }

                if (bias != null)
                {
                    r += Vector128.Load(bias + j);
                }

                StoreRow(ci + j, r, accumulate);
            }

            DotColumns(ai, b, ldb, ci, k, j, n, bias, accumulate);
        }
    }

    /// <summary>C = (accumulate ? C : 0) + A·B with A [m][k] and B [k][n], both row-major (dX = dY·W).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int k, int n, bool accumulate) =>
        BroadcastCore(a, lda, 1, b, ldb, c, ldc, m, k, n, null, accumulate);

    /// <summary>
    /// C = A·B + bias (every row; no bias when <paramref name="bias"/> is null), A [m][k] and B [k][n] row-major: a
    /// Linear on rows with its weight packed transposed. The bias is where the accumulators start, not a pass of its own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAddBias(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int k, int n, float* bias) =>
        BroadcastCore(a, lda, 1, b, ldb, c, ldc, m, k, n, bias, accumulate: false);

    /// <summary>
    /// C[i][j] += Σ_r A[r][i]·B[r][j] with A [rows][m] and B [rows][n] (always accumulates): weight gradients
    /// dW += dYᵀ·X.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedA(float* a, int lda, float* b, int ldb, float* c, int ldc, int rows, int m, int n) =>
        BroadcastCore(a, 1, lda, b, ldb, c, ldc, m, rows, n, null, accumulate: true);

    /// <summary>sums[j] += Σ_r A[r][j] over <paramref name="rows"/> rows of <paramref name="n"/> columns (bias gradients).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSums(float* a, int lda, int rows, int n, float* sums)
    {
        for (int r = 0; r < rows; r++)
        {
            VectorOps.Add(a + (nint)r * lda, sums, n);
        }
    }

    /// <summary>
    /// C[i][j] = start(i, j) + Σ_p A(i, p)·B[p][j] where A(i, p) = a[i·ars + p·acs]: A row-major (ars = lda, acs = 1)
    /// or transposed (ars = 1, acs = lda); start is C itself when <paramref name="accumulate"/>, else bias[j] (0 without
    /// a bias). With 512-bit vectors, blocks of 8 rows x 32 columns keep 16 accumulators in registers, which start
    /// from C or the bias directly; the narrower kernels (and the columns and rows those blocks leave) accumulate
    /// into C after it is set to its start.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BroadcastCore(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int m, int k, int n, float* bias, bool accumulate)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 8 <= m; i += 8)
            {
                float* ai = a + (nint)i * ars;
                float* ci = c + (nint)i * ldc;
                int j = 0;
                for (; j + 32 <= n; j += 32)
                {
                    Broadcast8x32V512(ai, ars, acs, b + j, ldb, ci + j, ldc, k, Start(ci + j, ldc, bias, j, accumulate, out int ldStart), ldStart);
                }

                for (; j + 16 <= n; j += 16)
                {
                    Broadcast8x16V512(ai, ars, acs, b + j, ldb, ci + j, ldc, k, Start(ci + j, ldc, bias, j, accumulate, out int ldStart), ldStart);
                }

                if (j < n)
                {
                    SetStart(ci, ldc, 8, j, n, bias, accumulate);
                    NarrowColumns4(ai, ars, acs, b, ldb, ci, ldc, k, j, n);
                    NarrowColumns4(ai + 4 * (nint)ars, ars, acs, b, ldb, ci + 4 * (nint)ldc, ldc, k, j, n);
                }
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= m; i += 4)
            {
                float* ai = a + (nint)i * ars;
                float* ci = c + (nint)i * ldc;
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; j + 32 <= n; j += 32)
                    {
                        Broadcast4x32V512(ai, ars, acs, b + j, ldb, ci + j, ldc, k, Start(ci + j, ldc, bias, j, accumulate, out int ldStart), ldStart);
                    }

                    for (; j + 16 <= n; j += 16)
                    {
                        Broadcast4x16V512(ai, ars, acs, b + j, ldb, ci + j, ldc, k, Start(ci + j, ldc, bias, j, accumulate, out int ldStart), ldStart);
                    }
                }

                SetStart(ci, ldc, 4, j, n, bias, accumulate);
                NarrowColumns4(ai, ars, acs, b, ldb, ci, ldc, k, j, n);
            }
        }

        for (; i < m; i++)
        {
            float* ai = a + (nint)i * ars;
            float* ci = c + (nint)i * ldc;
            SetStart(ci, ldc, 1, 0, n, bias, accumulate);
            if (Vector128.IsHardwareAccelerated)
            {
                for (int p = 0; p < k; p++)
                {
                    VectorOps.Axpy(ai[(nint)p * acs], b + (nint)p * ldb, ci, n);
                }
            }
            else
            {
                ScalarColumns(ai, acs, b, ldb, ci, k, 0, n);
            }
        }
    }

    /// <summary>Where a 512-bit block's accumulators start: C's rows, the bias row (row stride 0) or zero (null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Start(float* ci, int ldc, float* bias, int j, bool accumulate, out int ldStart)
    {
        if (accumulate)
        {
            ldStart = ldc;
            return ci;
        }

        ldStart = 0;
        return bias == null ? null : bias + j;
    }

    /// <summary>C[r][from, to) = bias[from, to) (or 0) for <paramref name="rows"/> rows, unless accumulating.</summary>
    private static void SetStart(float* c, int ldc, int rows, int from, int to, float* bias, bool accumulate)
    {
        if (accumulate || from >= to)
        {
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            var row = new Span<float>(c + (nint)r * ldc + from, to - from);
            if (bias == null)
            {
                row.Clear();
            }
            else
            {
                new ReadOnlySpan<float>(bias + from, to - from).CopyTo(row);
            }
        }
    }

    /// <summary>C[4][from, n) += A(4 rows, p)·B[p][from, n) with the kernels narrower than 512 bits, then scalar columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NarrowColumns4(float* ai, int ars, int acs, float* b, int ldb, float* ci, int ldc, int k, int j, int n)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 16 <= n; j += 16)
            {
                Broadcast4x16V256(ai, ars, acs, b + j, ldb, ci + j, ldc, k);
            }

            for (; j + 8 <= n; j += 8)
            {
                Broadcast4x8V256(ai, ars, acs, b + j, ldb, ci + j, ldc, k);
            }
        }

        for (; j + 8 <= n; j += 8)
        {
            Broadcast4x8V128(ai, ars, acs, b + j, ldb, ci + j, ldc, k);
        }

        for (; j + 4 <= n; j += 4)
        {
            Broadcast4x4V128(ai, ars, acs, b + j, ldb, ci + j, ldc, k);
        }

        for (int q = 0; q < 4; q++)
        {
            ScalarColumns(ai + (nint)q * ars, acs, b, ldb, ci + (nint)q * ldc, k, j, n);
        }
    }

    /// <summary>C row j ∈ [from, to): += Σ_p A(p)·B[p][j], one column at a time.</summary>
    private static void ScalarColumns(float* ai, int acs, float* b, int ldb, float* ci, int k, int from, int to)
    {
        for (int j = from; j < to; j++)
        {
            float s = 0f;
            for (int p = 0; p < k; p++)
            {
                s += ai[(nint)p * acs] * b[(nint)p * ldb + j];
            }

            ci[j] += s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector128<float> r, bool accumulate)
    {
        if (accumulate)
        {
            r += Vector128.Load(c);
        }

        r.Store(c);
    }

    /// <summary>The columns [from, n) of one row of C = A Bᵀ, one dot product each.</summary>
    private static void DotColumns(float* ai, float* b, int ldb, float* ci, int k, int from, int n, float* bias, bool accumulate)
    {
        for (int j = from; j < n; j++)
        {
            float s = VectorOps.Dot(ai, b + (nint)j * ldb, k);
            if (bias != null)
            {
                s += bias[j];
            }

            ci[j] = accumulate ? ci[j] + s : s;
        }
    }

    /// <summary>The p ∈ [from, k) part of one row of A against 4 rows of B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> DotTail(float* ai, float* b, int ldb, int from, int k)
    {
        Vector128<float> r = Vector128<float>.Zero;
        for (int p = from; p < k; p++)
        {
            r += Vector128.Create(ai[p]) * Vector128.Create(b[p], b[ldb + p], b[2 * (nint)ldb + p], b[3 * (nint)ldb + p]);
        }

        return r;
    }

    private static void ScalarTransposedB(
        float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int k, int n, float* bias, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            float* ai = a + (nint)i * lda;
            float* ci = c + (nint)i * ldc;
            for (int j = 0; j < n; j++)
            {
                float* bj = b + (nint)j * ldb;
                float s0 = 0f, s1 = 0f;
                int p = 0;
                for (; p + 2 <= k; p += 2)
                {
                    s0 += ai[p] * bj[p];
                    s1 += ai[p + 1] * bj[p + 1];
                }

                if (p < k)
                {
                    s0 += ai[p] * bj[p];
                }

                float s = s0 + s1;
                if (bias != null)
                {
                    s += bias[j];
                }

                ci[j] = accumulate ? ci[j] + s : s;
            }
        }
    }

    // The micro-kernels: the same code at each width (written out, as the JIT specializes nothing generic here).

    /// <summary>Dot products of 4 rows of A with 4 rows of B, 512-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots4x4V512(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0, out Vector128<float> r1, out Vector128<float> r2, out Vector128<float> r3)
    {
        float* a0 = a;
        float* a1 = a + 1 * lda;
        float* a2 = a + 2 * lda;
        float* a3 = a + 3 * lda;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector512<float> c00 = Vector512<float>.Zero; Vector512<float> c01 = Vector512<float>.Zero; Vector512<float> c02 = Vector512<float>.Zero; Vector512<float> c03 = Vector512<float>.Zero;
        Vector512<float> c10 = Vector512<float>.Zero; Vector512<float> c11 = Vector512<float>.Zero; Vector512<float> c12 = Vector512<float>.Zero; Vector512<float> c13 = Vector512<float>.Zero;
        Vector512<float> c20 = Vector512<float>.Zero; Vector512<float> c21 = Vector512<float>.Zero; Vector512<float> c22 = Vector512<float>.Zero; Vector512<float> c23 = Vector512<float>.Zero;
        Vector512<float> c30 = Vector512<float>.Zero; Vector512<float> c31 = Vector512<float>.Zero; Vector512<float> c32 = Vector512<float>.Zero; Vector512<float> c33 = Vector512<float>.Zero;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a0 + p);
            Vector512<float> x1 = Vector512.Load(a1 + p);
            Vector512<float> x2 = Vector512.Load(a2 + p);
            Vector512<float> x3 = Vector512.Load(a3 + p);
            Vector512<float> y0 = Vector512.Load(b0 + p);
            c00 = Vector512.FusedMultiplyAdd(x0, y0, c00);
            c10 = Vector512.FusedMultiplyAdd(x1, y0, c10);
            c20 = Vector512.FusedMultiplyAdd(x2, y0, c20);
            c30 = Vector512.FusedMultiplyAdd(x3, y0, c30);
            Vector512<float> y1 = Vector512.Load(b1 + p);
            c01 = Vector512.FusedMultiplyAdd(x0, y1, c01);
            c11 = Vector512.FusedMultiplyAdd(x1, y1, c11);
            c21 = Vector512.FusedMultiplyAdd(x2, y1, c21);
            c31 = Vector512.FusedMultiplyAdd(x3, y1, c31);
            Vector512<float> y2 = Vector512.Load(b2 + p);
            c02 = Vector512.FusedMultiplyAdd(x0, y2, c02);
            c12 = Vector512.FusedMultiplyAdd(x1, y2, c12);
            c22 = Vector512.FusedMultiplyAdd(x2, y2, c22);
            c32 = Vector512.FusedMultiplyAdd(x3, y2, c32);
            Vector512<float> y3 = Vector512.Load(b3 + p);
            c03 = Vector512.FusedMultiplyAdd(x0, y3, c03);
            c13 = Vector512.FusedMultiplyAdd(x1, y3, c13);
            c23 = Vector512.FusedMultiplyAdd(x2, y3, c23);
            c33 = Vector512.FusedMultiplyAdd(x3, y3, c33);
        }

        r0 = VectorOps.HorizontalSums(VectorOps.Fold(c00), VectorOps.Fold(c01), VectorOps.Fold(c02), VectorOps.Fold(c03)) + DotTail(a0, b, ldb, p, k);
        r1 = VectorOps.HorizontalSums(VectorOps.Fold(c10), VectorOps.Fold(c11), VectorOps.Fold(c12), VectorOps.Fold(c13)) + DotTail(a1, b, ldb, p, k);
        r2 = VectorOps.HorizontalSums(VectorOps.Fold(c20), VectorOps.Fold(c21), VectorOps.Fold(c22), VectorOps.Fold(c23)) + DotTail(a2, b, ldb, p, k);
        r3 = VectorOps.HorizontalSums(VectorOps.Fold(c30), VectorOps.Fold(c31), VectorOps.Fold(c32), VectorOps.Fold(c33)) + DotTail(a3, b, ldb, p, k);
    }

    /// <summary>Dot products of 1 rows of A with 4 rows of B, 512-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots1x4V512(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0)
    {
        float* a0 = a;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector512<float> c00 = Vector512<float>.Zero; Vector512<float> c01 = Vector512<float>.Zero; Vector512<float> c02 = Vector512<float>.Zero; Vector512<float> c03 = Vector512<float>.Zero;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            Vector512<float> x0 = Vector512.Load(a0 + p);
            Vector512<float> y0 = Vector512.Load(b0 + p);
            c00 = Vector512.FusedMultiplyAdd(x0, y0, c00);
            Vector512<float> y1 = Vector512.Load(b1 + p);
            c01 = Vector512.FusedMultiplyAdd(x0, y1, c01);
            Vector512<float> y2 = Vector512.Load(b2 + p);
            c02 = Vector512.FusedMultiplyAdd(x0, y2, c02);
            Vector512<float> y3 = Vector512.Load(b3 + p);
            c03 = Vector512.FusedMultiplyAdd(x0, y3, c03);
        }

        r0 = VectorOps.HorizontalSums(VectorOps.Fold(c00), VectorOps.Fold(c01), VectorOps.Fold(c02), VectorOps.Fold(c03)) + DotTail(a0, b, ldb, p, k);
    }

    /// <summary>Dot products of 2 rows of A with 4 rows of B, 256-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots2x4V256(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0, out Vector128<float> r1)
    {
        float* a0 = a;
        float* a1 = a + 1 * lda;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector256<float> c00 = Vector256<float>.Zero; Vector256<float> c01 = Vector256<float>.Zero; Vector256<float> c02 = Vector256<float>.Zero; Vector256<float> c03 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero; Vector256<float> c11 = Vector256<float>.Zero; Vector256<float> c12 = Vector256<float>.Zero; Vector256<float> c13 = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            Vector256<float> x0 = Vector256.Load(a0 + p);
            Vector256<float> x1 = Vector256.Load(a1 + p);
            Vector256<float> y0 = Vector256.Load(b0 + p);
            c00 = Vector256.FusedMultiplyAdd(x0, y0, c00);
            c10 = Vector256.FusedMultiplyAdd(x1, y0, c10);
            Vector256<float> y1 = Vector256.Load(b1 + p);
            c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
            c11 = Vector256.FusedMultiplyAdd(x1, y1, c11);
            Vector256<float> y2 = Vector256.Load(b2 + p);
            c02 = Vector256.FusedMultiplyAdd(x0, y2, c02);
            c12 = Vector256.FusedMultiplyAdd(x1, y2, c12);
            Vector256<float> y3 = Vector256.Load(b3 + p);
            c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
            c13 = Vector256.FusedMultiplyAdd(x1, y3, c13);
        }

        r0 = VectorOps.HorizontalSums(VectorOps.Fold(c00), VectorOps.Fold(c01), VectorOps.Fold(c02), VectorOps.Fold(c03)) + DotTail(a0, b, ldb, p, k);
        r1 = VectorOps.HorizontalSums(VectorOps.Fold(c10), VectorOps.Fold(c11), VectorOps.Fold(c12), VectorOps.Fold(c13)) + DotTail(a1, b, ldb, p, k);
    }

    /// <summary>Dot products of 1 rows of A with 4 rows of B, 256-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots1x4V256(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0)
    {
        float* a0 = a;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector256<float> c00 = Vector256<float>.Zero; Vector256<float> c01 = Vector256<float>.Zero; Vector256<float> c02 = Vector256<float>.Zero; Vector256<float> c03 = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            Vector256<float> x0 = Vector256.Load(a0 + p);
            Vector256<float> y0 = Vector256.Load(b0 + p);
            c00 = Vector256.FusedMultiplyAdd(x0, y0, c00);
            Vector256<float> y1 = Vector256.Load(b1 + p);
            c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
            Vector256<float> y2 = Vector256.Load(b2 + p);
            c02 = Vector256.FusedMultiplyAdd(x0, y2, c02);
            Vector256<float> y3 = Vector256.Load(b3 + p);
            c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
        }

        r0 = VectorOps.HorizontalSums(VectorOps.Fold(c00), VectorOps.Fold(c01), VectorOps.Fold(c02), VectorOps.Fold(c03)) + DotTail(a0, b, ldb, p, k);
    }

    /// <summary>Dot products of 2 rows of A with 4 rows of B, 128-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots2x4V128(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0, out Vector128<float> r1)
    {
        float* a0 = a;
        float* a1 = a + 1 * lda;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector128<float> c00 = Vector128<float>.Zero; Vector128<float> c01 = Vector128<float>.Zero; Vector128<float> c02 = Vector128<float>.Zero; Vector128<float> c03 = Vector128<float>.Zero;
        Vector128<float> c10 = Vector128<float>.Zero; Vector128<float> c11 = Vector128<float>.Zero; Vector128<float> c12 = Vector128<float>.Zero; Vector128<float> c13 = Vector128<float>.Zero;
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            Vector128<float> x0 = Vector128.Load(a0 + p);
            Vector128<float> x1 = Vector128.Load(a1 + p);
            Vector128<float> y0 = Vector128.Load(b0 + p);
            c00 = Vector128.MultiplyAddEstimate(x0, y0, c00);
            c10 = Vector128.MultiplyAddEstimate(x1, y0, c10);
            Vector128<float> y1 = Vector128.Load(b1 + p);
            c01 = Vector128.MultiplyAddEstimate(x0, y1, c01);
            c11 = Vector128.MultiplyAddEstimate(x1, y1, c11);
            Vector128<float> y2 = Vector128.Load(b2 + p);
            c02 = Vector128.MultiplyAddEstimate(x0, y2, c02);
            c12 = Vector128.MultiplyAddEstimate(x1, y2, c12);
            Vector128<float> y3 = Vector128.Load(b3 + p);
            c03 = Vector128.MultiplyAddEstimate(x0, y3, c03);
            c13 = Vector128.MultiplyAddEstimate(x1, y3, c13);
        }

        r0 = VectorOps.HorizontalSums(c00, c01, c02, c03) + DotTail(a0, b, ldb, p, k);
        r1 = VectorOps.HorizontalSums(c10, c11, c12, c13) + DotTail(a1, b, ldb, p, k);
    }

    /// <summary>Dot products of 1 rows of A with 4 rows of B, 128-bit accumulators along p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots1x4V128(float* a, int lda, float* b, int ldb, int k, out Vector128<float> r0)
    {
        float* a0 = a;
        float* b0 = b;
        float* b1 = b + 1 * ldb;
        float* b2 = b + 2 * ldb;
        float* b3 = b + 3 * ldb;
        Vector128<float> c00 = Vector128<float>.Zero; Vector128<float> c01 = Vector128<float>.Zero; Vector128<float> c02 = Vector128<float>.Zero; Vector128<float> c03 = Vector128<float>.Zero;
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            Vector128<float> x0 = Vector128.Load(a0 + p);
            Vector128<float> y0 = Vector128.Load(b0 + p);
            c00 = Vector128.MultiplyAddEstimate(x0, y0, c00);
            Vector128<float> y1 = Vector128.Load(b1 + p);
            c01 = Vector128.MultiplyAddEstimate(x0, y1, c01);
            Vector128<float> y2 = Vector128.Load(b2 + p);
            c02 = Vector128.MultiplyAddEstimate(x0, y2, c02);
            Vector128<float> y3 = Vector128.Load(b3 + p);
            c03 = Vector128.MultiplyAddEstimate(x0, y3, c03);
        }

        r0 = VectorOps.HorizontalSums(c00, c01, c02, c03) + DotTail(a0, b, ldb, p, k);
    }

    /// <summary>C[8][2·16] = start + A(8 rows, p)·B[p][2·16] over all p, 512-bit accumulators (16 of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast8x32V512(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k, float* start, int ldStart)
    {
        float* c0 = c + 0 * (nint)ldc;
        float* c1 = c + 1 * (nint)ldc;
        float* c2 = c + 2 * (nint)ldc;
        float* c3 = c + 3 * (nint)ldc;
        float* c4 = c + 4 * (nint)ldc;
        float* c5 = c + 5 * (nint)ldc;
        float* c6 = c + 6 * (nint)ldc;
        float* c7 = c + 7 * (nint)ldc;
        Vector512<float> s00 = StartRow(start, 0 * (nint)ldStart + 0); Vector512<float> s01 = StartRow(start, 0 * (nint)ldStart + 16);
        Vector512<float> s10 = StartRow(start, 1 * (nint)ldStart + 0); Vector512<float> s11 = StartRow(start, 1 * (nint)ldStart + 16);
        Vector512<float> s20 = StartRow(start, 2 * (nint)ldStart + 0); Vector512<float> s21 = StartRow(start, 2 * (nint)ldStart + 16);
        Vector512<float> s30 = StartRow(start, 3 * (nint)ldStart + 0); Vector512<float> s31 = StartRow(start, 3 * (nint)ldStart + 16);
        Vector512<float> s40 = StartRow(start, 4 * (nint)ldStart + 0); Vector512<float> s41 = StartRow(start, 4 * (nint)ldStart + 16);
        Vector512<float> s50 = StartRow(start, 5 * (nint)ldStart + 0); Vector512<float> s51 = StartRow(start, 5 * (nint)ldStart + 16);
        Vector512<float> s60 = StartRow(start, 6 * (nint)ldStart + 0); Vector512<float> s61 = StartRow(start, 6 * (nint)ldStart + 16);
        Vector512<float> s70 = StartRow(start, 7 * (nint)ldStart + 0); Vector512<float> s71 = StartRow(start, 7 * (nint)ldStart + 16);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector512<float> y0 = Vector512.Load(bp + 0);
            Vector512<float> y1 = Vector512.Load(bp + 16);
            Vector512<float> x0 = Vector512.Create(ap[0 * ars]);
            s00 = Vector512.FusedMultiplyAdd(x0, y0, s00);
            s01 = Vector512.FusedMultiplyAdd(x0, y1, s01);
            Vector512<float> x1 = Vector512.Create(ap[1 * ars]);
            s10 = Vector512.FusedMultiplyAdd(x1, y0, s10);
            s11 = Vector512.FusedMultiplyAdd(x1, y1, s11);
            Vector512<float> x2 = Vector512.Create(ap[2 * ars]);
            s20 = Vector512.FusedMultiplyAdd(x2, y0, s20);
            s21 = Vector512.FusedMultiplyAdd(x2, y1, s21);
            Vector512<float> x3 = Vector512.Create(ap[3 * ars]);
            s30 = Vector512.FusedMultiplyAdd(x3, y0, s30);
            s31 = Vector512.FusedMultiplyAdd(x3, y1, s31);
            Vector512<float> x4 = Vector512.Create(ap[4 * ars]);
            s40 = Vector512.FusedMultiplyAdd(x4, y0, s40);
            s41 = Vector512.FusedMultiplyAdd(x4, y1, s41);
            Vector512<float> x5 = Vector512.Create(ap[5 * ars]);
            s50 = Vector512.FusedMultiplyAdd(x5, y0, s50);
            s51 = Vector512.FusedMultiplyAdd(x5, y1, s51);
            Vector512<float> x6 = Vector512.Create(ap[6 * ars]);
            s60 = Vector512.FusedMultiplyAdd(x6, y0, s60);
            s61 = Vector512.FusedMultiplyAdd(x6, y1, s61);
            Vector512<float> x7 = Vector512.Create(ap[7 * ars]);
            s70 = Vector512.FusedMultiplyAdd(x7, y0, s70);
            s71 = Vector512.FusedMultiplyAdd(x7, y1, s71);
        }

        s00.Store(c0 + 0); s01.Store(c0 + 16);
        s10.Store(c1 + 0); s11.Store(c1 + 16);
        s20.Store(c2 + 0); s21.Store(c2 + 16);
        s30.Store(c3 + 0); s31.Store(c3 + 16);
        s40.Store(c4 + 0); s41.Store(c4 + 16);
        s50.Store(c5 + 0); s51.Store(c5 + 16);
        s60.Store(c6 + 0); s61.Store(c6 + 16);
        s70.Store(c7 + 0); s71.Store(c7 + 16);
    }

    /// <summary>C[8][1·16] = start + A(8 rows, p)·B[p][1·16] over all p, 512-bit accumulators (8 of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast8x16V512(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k, float* start, int ldStart)
    {
        float* c0 = c + 0 * (nint)ldc;
        float* c1 = c + 1 * (nint)ldc;
        float* c2 = c + 2 * (nint)ldc;
        float* c3 = c + 3 * (nint)ldc;
        float* c4 = c + 4 * (nint)ldc;
        float* c5 = c + 5 * (nint)ldc;
        float* c6 = c + 6 * (nint)ldc;
        float* c7 = c + 7 * (nint)ldc;
        Vector512<float> s00 = StartRow(start, 0 * (nint)ldStart + 0);
        Vector512<float> s10 = StartRow(start, 1 * (nint)ldStart + 0);
        Vector512<float> s20 = StartRow(start, 2 * (nint)ldStart + 0);
        Vector512<float> s30 = StartRow(start, 3 * (nint)ldStart + 0);
        Vector512<float> s40 = StartRow(start, 4 * (nint)ldStart + 0);
        Vector512<float> s50 = StartRow(start, 5 * (nint)ldStart + 0);
        Vector512<float> s60 = StartRow(start, 6 * (nint)ldStart + 0);
        Vector512<float> s70 = StartRow(start, 7 * (nint)ldStart + 0);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector512<float> y0 = Vector512.Load(bp + 0);
            Vector512<float> x0 = Vector512.Create(ap[0 * ars]);
            s00 = Vector512.FusedMultiplyAdd(x0, y0, s00);
            Vector512<float> x1 = Vector512.Create(ap[1 * ars]);
            s10 = Vector512.FusedMultiplyAdd(x1, y0, s10);
            Vector512<float> x2 = Vector512.Create(ap[2 * ars]);
            s20 = Vector512.FusedMultiplyAdd(x2, y0, s20);
            Vector512<float> x3 = Vector512.Create(ap[3 * ars]);
            s30 = Vector512.FusedMultiplyAdd(x3, y0, s30);
            Vector512<float> x4 = Vector512.Create(ap[4 * ars]);
            s40 = Vector512.FusedMultiplyAdd(x4, y0, s40);
            Vector512<float> x5 = Vector512.Create(ap[5 * ars]);
            s50 = Vector512.FusedMultiplyAdd(x5, y0, s50);
            Vector512<float> x6 = Vector512.Create(ap[6 * ars]);
            s60 = Vector512.FusedMultiplyAdd(x6, y0, s60);
            Vector512<float> x7 = Vector512.Create(ap[7 * ars]);
            s70 = Vector512.FusedMultiplyAdd(x7, y0, s70);
        }

        s00.Store(c0 + 0);
        s10.Store(c1 + 0);
        s20.Store(c2 + 0);
        s30.Store(c3 + 0);
        s40.Store(c4 + 0);
        s50.Store(c5 + 0);
        s60.Store(c6 + 0);
        s70.Store(c7 + 0);
    }

    /// <summary>C[4][2·16] = start + A(4 rows, p)·B[p][2·16] over all p, 512-bit accumulators (8 of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x32V512(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k, float* start, int ldStart)
    {
        float* c0 = c + 0 * (nint)ldc;
        float* c1 = c + 1 * (nint)ldc;
        float* c2 = c + 2 * (nint)ldc;
        float* c3 = c + 3 * (nint)ldc;
        Vector512<float> s00 = StartRow(start, 0 * (nint)ldStart + 0); Vector512<float> s01 = StartRow(start, 0 * (nint)ldStart + 16);
        Vector512<float> s10 = StartRow(start, 1 * (nint)ldStart + 0); Vector512<float> s11 = StartRow(start, 1 * (nint)ldStart + 16);
        Vector512<float> s20 = StartRow(start, 2 * (nint)ldStart + 0); Vector512<float> s21 = StartRow(start, 2 * (nint)ldStart + 16);
        Vector512<float> s30 = StartRow(start, 3 * (nint)ldStart + 0); Vector512<float> s31 = StartRow(start, 3 * (nint)ldStart + 16);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector512<float> y0 = Vector512.Load(bp + 0);
            Vector512<float> y1 = Vector512.Load(bp + 16);
            Vector512<float> x0 = Vector512.Create(ap[0 * ars]);
            s00 = Vector512.FusedMultiplyAdd(x0, y0, s00);
            s01 = Vector512.FusedMultiplyAdd(x0, y1, s01);
            Vector512<float> x1 = Vector512.Create(ap[1 * ars]);
            s10 = Vector512.FusedMultiplyAdd(x1, y0, s10);
            s11 = Vector512.FusedMultiplyAdd(x1, y1, s11);
            Vector512<float> x2 = Vector512.Create(ap[2 * ars]);
            s20 = Vector512.FusedMultiplyAdd(x2, y0, s20);
            s21 = Vector512.FusedMultiplyAdd(x2, y1, s21);
            Vector512<float> x3 = Vector512.Create(ap[3 * ars]);
            s30 = Vector512.FusedMultiplyAdd(x3, y0, s30);
            s31 = Vector512.FusedMultiplyAdd(x3, y1, s31);
        }

        s00.Store(c0 + 0); s01.Store(c0 + 16);
        s10.Store(c1 + 0); s11.Store(c1 + 16);
        s20.Store(c2 + 0); s21.Store(c2 + 16);
        s30.Store(c3 + 0); s31.Store(c3 + 16);
    }

    /// <summary>C[4][1·16] = start + A(4 rows, p)·B[p][1·16] over all p, 512-bit accumulators (4 of them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x16V512(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k, float* start, int ldStart)
    {
        float* c0 = c + 0 * (nint)ldc;
        float* c1 = c + 1 * (nint)ldc;
        float* c2 = c + 2 * (nint)ldc;
        float* c3 = c + 3 * (nint)ldc;
        Vector512<float> s00 = StartRow(start, 0 * (nint)ldStart + 0);
        Vector512<float> s10 = StartRow(start, 1 * (nint)ldStart + 0);
        Vector512<float> s20 = StartRow(start, 2 * (nint)ldStart + 0);
        Vector512<float> s30 = StartRow(start, 3 * (nint)ldStart + 0);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector512<float> y0 = Vector512.Load(bp + 0);
            Vector512<float> x0 = Vector512.Create(ap[0 * ars]);
            s00 = Vector512.FusedMultiplyAdd(x0, y0, s00);
            Vector512<float> x1 = Vector512.Create(ap[1 * ars]);
            s10 = Vector512.FusedMultiplyAdd(x1, y0, s10);
            Vector512<float> x2 = Vector512.Create(ap[2 * ars]);
            s20 = Vector512.FusedMultiplyAdd(x2, y0, s20);
            Vector512<float> x3 = Vector512.Create(ap[3 * ars]);
            s30 = Vector512.FusedMultiplyAdd(x3, y0, s30);
        }

        s00.Store(c0 + 0);
        s10.Store(c1 + 0);
        s20.Store(c2 + 0);
        s30.Store(c3 + 0);
    }

    /// <summary>A block's starting row: 16 floats at start + offset, or 0 when there is no start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> StartRow(float* start, nint offset) => start == null ? Vector512<float>.Zero : Vector512.Load(start + offset);

    /// <summary>C[4][2·8] += A(4 rows, p)·B[p][2·8] over all p, 256-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x16V256(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k)
    {
        float* c0 = c;
        float* c1 = c + 1 * ldc;
        float* c2 = c + 2 * ldc;
        float* c3 = c + 3 * ldc;
        Vector256<float> s00 = Vector256.Load(c0 + 0); Vector256<float> s01 = Vector256.Load(c0 + 8);
        Vector256<float> s10 = Vector256.Load(c1 + 0); Vector256<float> s11 = Vector256.Load(c1 + 8);
        Vector256<float> s20 = Vector256.Load(c2 + 0); Vector256<float> s21 = Vector256.Load(c2 + 8);
        Vector256<float> s30 = Vector256.Load(c3 + 0); Vector256<float> s31 = Vector256.Load(c3 + 8);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector256<float> y0 = Vector256.Load(bp + 0);
            Vector256<float> y1 = Vector256.Load(bp + 8);
            Vector256<float> x0 = Vector256.Create(ap[0]);
            s00 = Vector256.FusedMultiplyAdd(x0, y0, s00);
            s01 = Vector256.FusedMultiplyAdd(x0, y1, s01);
            Vector256<float> x1 = Vector256.Create(ap[1 * ars]);
            s10 = Vector256.FusedMultiplyAdd(x1, y0, s10);
            s11 = Vector256.FusedMultiplyAdd(x1, y1, s11);
            Vector256<float> x2 = Vector256.Create(ap[2 * ars]);
            s20 = Vector256.FusedMultiplyAdd(x2, y0, s20);
            s21 = Vector256.FusedMultiplyAdd(x2, y1, s21);
            Vector256<float> x3 = Vector256.Create(ap[3 * ars]);
            s30 = Vector256.FusedMultiplyAdd(x3, y0, s30);
            s31 = Vector256.FusedMultiplyAdd(x3, y1, s31);
        }

        s00.Store(c0 + 0); s01.Store(c0 + 8);
        s10.Store(c1 + 0); s11.Store(c1 + 8);
        s20.Store(c2 + 0); s21.Store(c2 + 8);
        s30.Store(c3 + 0); s31.Store(c3 + 8);
    }

    /// <summary>C[4][1·8] += A(4 rows, p)·B[p][1·8] over all p, 256-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x8V256(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k)
    {
        float* c0 = c;
        float* c1 = c + 1 * ldc;
        float* c2 = c + 2 * ldc;
        float* c3 = c + 3 * ldc;
        Vector256<float> s00 = Vector256.Load(c0 + 0);
        Vector256<float> s10 = Vector256.Load(c1 + 0);
        Vector256<float> s20 = Vector256.Load(c2 + 0);
        Vector256<float> s30 = Vector256.Load(c3 + 0);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector256<float> y0 = Vector256.Load(bp + 0);
            Vector256<float> x0 = Vector256.Create(ap[0]);
            s00 = Vector256.FusedMultiplyAdd(x0, y0, s00);
            Vector256<float> x1 = Vector256.Create(ap[1 * ars]);
            s10 = Vector256.FusedMultiplyAdd(x1, y0, s10);
            Vector256<float> x2 = Vector256.Create(ap[2 * ars]);
            s20 = Vector256.FusedMultiplyAdd(x2, y0, s20);
            Vector256<float> x3 = Vector256.Create(ap[3 * ars]);
            s30 = Vector256.FusedMultiplyAdd(x3, y0, s30);
        }

        s00.Store(c0 + 0);
        s10.Store(c1 + 0);
        s20.Store(c2 + 0);
        s30.Store(c3 + 0);
    }

    /// <summary>C[4][2·4] += A(4 rows, p)·B[p][2·4] over all p, 128-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x8V128(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k)
    {
        float* c0 = c;
        float* c1 = c + 1 * ldc;
        float* c2 = c + 2 * ldc;
        float* c3 = c + 3 * ldc;
        Vector128<float> s00 = Vector128.Load(c0 + 0); Vector128<float> s01 = Vector128.Load(c0 + 4);
        Vector128<float> s10 = Vector128.Load(c1 + 0); Vector128<float> s11 = Vector128.Load(c1 + 4);
        Vector128<float> s20 = Vector128.Load(c2 + 0); Vector128<float> s21 = Vector128.Load(c2 + 4);
        Vector128<float> s30 = Vector128.Load(c3 + 0); Vector128<float> s31 = Vector128.Load(c3 + 4);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector128<float> y0 = Vector128.Load(bp + 0);
            Vector128<float> y1 = Vector128.Load(bp + 4);
            Vector128<float> x0 = Vector128.Create(ap[0]);
            s00 = Vector128.MultiplyAddEstimate(x0, y0, s00);
            s01 = Vector128.MultiplyAddEstimate(x0, y1, s01);
            Vector128<float> x1 = Vector128.Create(ap[1 * ars]);
            s10 = Vector128.MultiplyAddEstimate(x1, y0, s10);
            s11 = Vector128.MultiplyAddEstimate(x1, y1, s11);
            Vector128<float> x2 = Vector128.Create(ap[2 * ars]);
            s20 = Vector128.MultiplyAddEstimate(x2, y0, s20);
            s21 = Vector128.MultiplyAddEstimate(x2, y1, s21);
            Vector128<float> x3 = Vector128.Create(ap[3 * ars]);
            s30 = Vector128.MultiplyAddEstimate(x3, y0, s30);
            s31 = Vector128.MultiplyAddEstimate(x3, y1, s31);
        }

        s00.Store(c0 + 0); s01.Store(c0 + 4);
        s10.Store(c1 + 0); s11.Store(c1 + 4);
        s20.Store(c2 + 0); s21.Store(c2 + 4);
        s30.Store(c3 + 0); s31.Store(c3 + 4);
    }

    /// <summary>C[4][1·4] += A(4 rows, p)·B[p][1·4] over all p, 128-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Broadcast4x4V128(float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, int k)
    {
        float* c0 = c;
        float* c1 = c + 1 * ldc;
        float* c2 = c + 2 * ldc;
        float* c3 = c + 3 * ldc;
        Vector128<float> s00 = Vector128.Load(c0 + 0);
        Vector128<float> s10 = Vector128.Load(c1 + 0);
        Vector128<float> s20 = Vector128.Load(c2 + 0);
        Vector128<float> s30 = Vector128.Load(c3 + 0);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            float* ap = a + (nint)p * acs;
            Vector128<float> y0 = Vector128.Load(bp + 0);
            Vector128<float> x0 = Vector128.Create(ap[0]);
            s00 = Vector128.MultiplyAddEstimate(x0, y0, s00);
            Vector128<float> x1 = Vector128.Create(ap[1 * ars]);
            s10 = Vector128.MultiplyAddEstimate(x1, y0, s10);
            Vector128<float> x2 = Vector128.Create(ap[2 * ars]);
            s20 = Vector128.MultiplyAddEstimate(x2, y0, s20);
            Vector128<float> x3 = Vector128.Create(ap[3 * ars]);
            s30 = Vector128.MultiplyAddEstimate(x3, y0, s30);
        }

        s00.Store(c0 + 0);
        s10.Store(c1 + 0);
        s20.Store(c2 + 0);
        s30.Store(c3 + 0);
    }
}
