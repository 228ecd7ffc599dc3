using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphCompiler.Kernels;

// The 512-bit path of AttentionKernel for head sizes that are multiples of 16 (up to 128) and at most 64 keys:
// per head, the keys (and values, for backward) are transposed once into [headDim][keys] on the stack, so a
// query's scores are broadcast multiply-adds over whole vectors of keys instead of one horizontal sum per key; the
// softmax, the masks and the dropout mask are computed a vector of keys at a time, and rows of the output a
// vector of 16 head columns at a time. Same results as the general path (the same masks, the same dropout mask,
// the same lse), up to float rounding order.
public static unsafe partial class AttentionKernel
{
    private const int MaxHeadDim16 = 128;
    private const int MaxKeys16 = 64;

    /// <summary>Whether the 512-bit path applies.</summary>
    private static bool UsesHead16(int headDim, int tk) =>
        Vector512.IsHardwareAccelerated && headDim % 16 == 0 && headDim <= MaxHeadDim16 && tk <= MaxKeys16;

    /// <summary>
    /// t[d · 64 + j] = rows[j · ld + d] for the head's <paramref name="hd"/> columns: 16 keys x 16 columns at a time in
    /// registers, the remaining keys one by one.
    /// </summary>
    private static void Transpose16(float* rows, int ld, int count, float* t, int hd)
    {
        int j = 0;
        if (Avx512F.IsSupported)
        {
            for (; j + 16 <= count; j += 16)
            {
                for (int cb = 0; cb < hd; cb += 16)
                {
                    Transpose16x16(rows + (nint)j * ld + cb, ld, t + cb * MaxKeys16 + j);
                }
            }
        }

        for (; j < count; j++)
        {
            float* r = rows + (nint)j * ld;
            for (int d = 0; d < hd; d++)
            {
                t[d * MaxKeys16 + j] = r[d];
            }
        }
    }

    /// <summary>
    /// A 16x16 block in registers: four stages, each swapping one bit of the row index with the same bit of the
    /// column index across pairs of rows (two two-source permutes per pair), so element (r, c) ends at (c, r).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16x16(float* rows, int ld, float* t)
    {
        Vector512<float> r0 = Vector512.Load(rows + 0 * (nint)ld);
        Vector512<float> r1 = Vector512.Load(rows + 1 * (nint)ld);
        Vector512<float> r2 = Vector512.Load(rows + 2 * (nint)ld);
        Vector512<float> r3 = Vector512.Load(rows + 3 * (nint)ld);
        Vector512<float> r4 = Vector512.Load(rows + 4 * (nint)ld);
        Vector512<float> r5 = Vector512.Load(rows + 5 * (nint)ld);
        Vector512<float> r6 = Vector512.Load(rows + 6 * (nint)ld);
        Vector512<float> r7 = Vector512.Load(rows + 7 * (nint)ld);
        Vector512<float> r8 = Vector512.Load(rows + 8 * (nint)ld);
        Vector512<float> r9 = Vector512.Load(rows + 9 * (nint)ld);
        Vector512<float> r10 = Vector512.Load(rows + 10 * (nint)ld);
        Vector512<float> r11 = Vector512.Load(rows + 11 * (nint)ld);
        Vector512<float> r12 = Vector512.Load(rows + 12 * (nint)ld);
        Vector512<float> r13 = Vector512.Load(rows + 13 * (nint)ld);
        Vector512<float> r14 = Vector512.Load(rows + 14 * (nint)ld);
        Vector512<float> r15 = Vector512.Load(rows + 15 * (nint)ld);
        Vector512<int> low8 = SwapIndices(8, high: false), high8 = SwapIndices(8, high: true);
        (r0, r8) = (Avx512F.PermuteVar16x32x2(r0, low8, r8), Avx512F.PermuteVar16x32x2(r0, high8, r8));
        (r1, r9) = (Avx512F.PermuteVar16x32x2(r1, low8, r9), Avx512F.PermuteVar16x32x2(r1, high8, r9));
        (r2, r10) = (Avx512F.PermuteVar16x32x2(r2, low8, r10), Avx512F.PermuteVar16x32x2(r2, high8, r10));
        (r3, r11) = (Avx512F.PermuteVar16x32x2(r3, low8, r11), Avx512F.PermuteVar16x32x2(r3, high8, r11));
        (r4, r12) = (Avx512F.PermuteVar16x32x2(r4, low8, r12), Avx512F.PermuteVar16x32x2(r4, high8, r12));
        (r5, r13) = (Avx512F.PermuteVar16x32x2(r5, low8, r13), Avx512F.PermuteVar16x32x2(r5, high8, r13));
        (r6, r14) = (Avx512F.PermuteVar16x32x2(r6, low8, r14), Avx512F.PermuteVar16x32x2(r6, high8, r14));
        (r7, r15) = (Avx512F.PermuteVar16x32x2(r7, low8, r15), Avx512F.PermuteVar16x32x2(r7, high8, r15));
        Vector512<int> low4 = SwapIndices(4, high: false), high4 = SwapIndices(4, high: true);
        (r0, r4) = (Avx512F.PermuteVar16x32x2(r0, low4, r4), Avx512F.PermuteVar16x32x2(r0, high4, r4));
        (r1, r5) = (Avx512F.PermuteVar16x32x2(r1, low4, r5), Avx512F.PermuteVar16x32x2(r1, high4, r5));
        (r2, r6) = (Avx512F.PermuteVar16x32x2(r2, low4, r6), Avx512F.PermuteVar16x32x2(r2, high4, r6));
        (r3, r7) = (Avx512F.PermuteVar16x32x2(r3, low4, r7), Avx512F.PermuteVar16x32x2(r3, high4, r7));
        (r8, r12) = (Avx512F.PermuteVar16x32x2(r8, low4, r12), Avx512F.PermuteVar16x32x2(r8, high4, r12));
        (r9, r13) = (Avx512F.PermuteVar16x32x2(r9, low4, r13), Avx512F.PermuteVar16x32x2(r9, high4, r13));
        (r10, r14) = (Avx512F.PermuteVar16x32x2(r10, low4, r14), Avx512F.PermuteVar16x32x2(r10, high4, r14));
        (r11, r15) = (Avx512F.PermuteVar16x32x2(r11, low4, r15), Avx512F.PermuteVar16x32x2(r11, high4, r15));
        Vector512<int> low2 = SwapIndices(2, high: false), high2 = SwapIndices(2, high: true);
        (r0, r2) = (Avx512F.PermuteVar16x32x2(r0, low2, r2), Avx512F.PermuteVar16x32x2(r0, high2, r2));
        (r1, r3) = (Avx512F.PermuteVar16x32x2(r1, low2, r3), Avx512F.PermuteVar16x32x2(r1, high2, r3));
        (r4, r6) = (Avx512F.PermuteVar16x32x2(r4, low2, r6), Avx512F.PermuteVar16x32x2(r4, high2, r6));
        (r5, r7) = (Avx512F.PermuteVar16x32x2(r5, low2, r7), Avx512F.PermuteVar16x32x2(r5, high2, r7));
        (r8, r10) = (Avx512F.PermuteVar16x32x2(r8, low2, r10), Avx512F.PermuteVar16x32x2(r8, high2, r10));
        (r9, r11) = (Avx512F.PermuteVar16x32x2(r9, low2, r11), Avx512F.PermuteVar16x32x2(r9, high2, r11));
        (r12, r14) = (Avx512F.PermuteVar16x32x2(r12, low2, r14), Avx512F.PermuteVar16x32x2(r12, high2, r14));
        (r13, r15) = (Avx512F.PermuteVar16x32x2(r13, low2, r15), Avx512F.PermuteVar16x32x2(r13, high2, r15));
        Vector512<int> low1 = SwapIndices(1, high: false), high1 = SwapIndices(1, high: true);
        (r0, r1) = (Avx512F.PermuteVar16x32x2(r0, low1, r1), Avx512F.PermuteVar16x32x2(r0, high1, r1));
        (r2, r3) = (Avx512F.PermuteVar16x32x2(r2, low1, r3), Avx512F.PermuteVar16x32x2(r2, high1, r3));
        (r4, r5) = (Avx512F.PermuteVar16x32x2(r4, low1, r5), Avx512F.PermuteVar16x32x2(r4, high1, r5));
        (r6, r7) = (Avx512F.PermuteVar16x32x2(r6, low1, r7), Avx512F.PermuteVar16x32x2(r6, high1, r7));
        (r8, r9) = (Avx512F.PermuteVar16x32x2(r8, low1, r9), Avx512F.PermuteVar16x32x2(r8, high1, r9));
        (r10, r11) = (Avx512F.PermuteVar16x32x2(r10, low1, r11), Avx512F.PermuteVar16x32x2(r10, high1, r11));
        (r12, r13) = (Avx512F.PermuteVar16x32x2(r12, low1, r13), Avx512F.PermuteVar16x32x2(r12, high1, r13));
        (r14, r15) = (Avx512F.PermuteVar16x32x2(r14, low1, r15), Avx512F.PermuteVar16x32x2(r14, high1, r15));
        r0.Store(t + 0 * MaxKeys16);
        r1.Store(t + 1 * MaxKeys16);
        r2.Store(t + 2 * MaxKeys16);
        r3.Store(t + 3 * MaxKeys16);
        r4.Store(t + 4 * MaxKeys16);
        r5.Store(t + 5 * MaxKeys16);
        r6.Store(t + 6 * MaxKeys16);
        r7.Store(t + 7 * MaxKeys16);
        r8.Store(t + 8 * MaxKeys16);
        r9.Store(t + 9 * MaxKeys16);
        r10.Store(t + 10 * MaxKeys16);
        r11.Store(t + 11 * MaxKeys16);
        r12.Store(t + 12 * MaxKeys16);
        r13.Store(t + 13 * MaxKeys16);
        r14.Store(t + 14 * MaxKeys16);
        r15.Store(t + 15 * MaxKeys16);
    }

    /// <summary>
    /// The permute indices of one transpose stage for the pair (row r, row r + bit), r without that bit: lanes 0-15 pick
    /// from the first row, 16-31 from the second. The new first row keeps its lanes without the bit and takes the second
    /// row's lane c - bit where the bit is set; the new second row takes the first row's lane c + bit and keeps the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> SwapIndices(int bit, bool high)
    {
        Vector512<int> lane = Vector512<int>.Indices;
        Vector512<int> hasBit = Vector512.Equals(lane & Vector512.Create(bit), Vector512.Create(bit));
        return high
            ? Vector512.ConditionalSelect(hasBit, lane + Vector512.Create(16), lane + Vector512.Create(bit))
            : Vector512.ConditionalSelect(hasBit, lane + Vector512.Create(16 - bit), lane);
    }

    /// <summary>The additive key mask of the call: 0 for a key that may be attended, -∞ for padding (and past tk).</summary>
    private static void KeyMask16(int tk, int* keyTokens, int padToken, float* mask)
    {
        for (int j = 0; j < MaxKeys16; j++)
        {
            mask[j] = j < tk && (keyTokens == null || keyTokens[j] != padToken) ? 0f : float.NegativeInfinity;
        }
    }

    /// <summary>
    /// r_n = Σ_d x_n[d]·t[d][0..16) over the head's <paramref name="hd"/> columns for the 4 rows x_n: two accumulators
    /// per row (the two halves of d), so 8 independent multiply-add chains keep both FMA pipes busy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(
        float* x0, float* x1, float* x2, float* x3, float* t, int hd,
        out Vector512<float> r0, out Vector512<float> r1, out Vector512<float> r2, out Vector512<float> r3)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int half = hd / 2;
        for (int d = 0; d < half; d++)
        {
            Vector512<float> lo = Vector512.Load(t + d * MaxKeys16);
            Vector512<float> hi = Vector512.Load(t + (d + half) * MaxKeys16);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x0[d]), lo, a0);
            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(x0[d + half]), hi, b0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[d]), lo, a1);
            b1 = Vector512.FusedMultiplyAdd(Vector512.Create(x1[d + half]), hi, b1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[d]), lo, a2);
            b2 = Vector512.FusedMultiplyAdd(Vector512.Create(x2[d + half]), hi, b2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[d]), lo, a3);
            b3 = Vector512.FusedMultiplyAdd(Vector512.Create(x3[d + half]), hi, b3);
        }

        r0 = a0 + b0;
        r1 = a1 + b1;
        r2 = a2 + b2;
        r3 = a3 + b3;
    }

    /// <summary>
    /// Row n of a 4-row block starting at query <paramref name="i"/> of which <paramref name="count"/> rows are
    /// real: the rows past the end repeat the last real one, so every read stays in bounds (their results are
    /// never stored).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockRow(int i, int n, int count) => i + Math.Min(n, count - 1);

    /// <summary>
    /// Stores the scores of 16 keys from column <paramref name="c"/>: scale·acc + mask, -∞ from key
    /// <paramref name="end"/> on; returns them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ScoreVector(Vector512<float> acc, float scale, float* mask, int c, int end, float* sRow)
    {
        Vector512<int> index = Vector512<int>.Indices + Vector512.Create(c * 16);
        Vector512<float> score = Vector512.FusedMultiplyAdd(acc, Vector512.Create(scale), Vector512.Load(mask + c * 16));
        score = Vector512.ConditionalSelect(Vector512.LessThan(index, Vector512.Create(end)).AsSingle(), score, Vector512.Create(float.NegativeInfinity));
        score.Store(sRow + c * 16);
        return score;
    }

    /// <summary>The largest lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxAcross(Vector512<float> v)
    {
        Vector256<float> a = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<float> b = Vector128.Max(a.GetLower(), a.GetUpper());
        b = Vector128.Max(b, Vector128.Shuffle(b, Vector128.Create(2, 3, 0, 1)));
        b = Vector128.Max(b, Vector128.Shuffle(b, Vector128.Create(1, 0, 3, 2)));
        return b.ToScalar();
    }

    /// <summary>p[j] = exp(s[j] - shift) with -∞ giving exactly 0 (so a row whose keys are all masked is all 0); returns the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Exp16(float* s, float shift, int vectors)
    {
        Vector512<float> sum = Vector512<float>.Zero;
        for (int c = 0; c < vectors; c++)
        {
            Vector512<float> x = Vector512.Load(s + c * 16);
            Vector512<float> e = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, VectorMath.Exp(x - Vector512.Create(shift)));
            e.Store(s + c * 16);
            sum += e;
        }

        return Vector512.Sum(sum);
    }

    /// <summary>keep[j] = 1/(1-p) for kept weights, 0 for dropped ones, for the row's keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep16(uint seed32, uint rowIndex, uint threshold, float keepScale, int vectors, float* keep)
    {
        for (int c = 0; c < vectors; c++)
        {
            Vector512<uint> index = Vector512<uint>.Indices + Vector512.Create(rowIndex + (uint)(c * 16));
            Vector512<float> kept = Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(DropoutMask.Hash(Vector512.Create(seed32), index), 8), Vector512.Create(threshold)).AsSingle();
            Vector512.ConditionalSelect(kept, Vector512.Create(keepScale), Vector512<float>.Zero).Store(keep + c * 16);
        }
    }

    /// <summary>row[j] *= keep[j] over the row's vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Multiply16(float* row, float* keep, int vectors)
    {
        for (int c = 0; c < vectors; c++)
        {
            (Vector512.Load(row + c * 16) * Vector512.Load(keep + c * 16)).Store(row + c * 16);
        }
    }

    /// <summary>
    /// Per head, chunks of up to 16 query rows in three passes, each over independent rows so that they overlap in
    /// the core: (1) the scores, 4 rows at a time, into a [16][keys] stack buffer; (2) per row, the softmax
    /// numerators (and dropout), the reciprocal of their sum and the lse; (3) P·V, 4 rows at a time.
    /// </summary>
    private static void Forward16(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, int tq, int tk, int heads, int hd,
        float scale, bool causal, int* keyTokens, int padToken, float* lse, float dropoutP, ulong dropoutSeed)
    {
        const int Chunk = 16;
        float* kt = stackalloc float[hd * MaxKeys16];
        float* mask = stackalloc float[MaxKeys16];
        float* s = stackalloc float[Chunk * MaxKeys16];
        float* keep = stackalloc float[MaxKeys16];
        float* inverseSums = stackalloc float[Chunk];
        KeyMask16(tk, keyTokens, padToken, mask);
        int vectors = (tk + 15) / 16;
        bool dropout = dropoutP > 0f;
        uint threshold = DropoutMask.Threshold(dropoutP), seed32 = DropoutMask.Seed32(dropoutSeed);
        float keepScale = dropoutP >= 1f ? 0f : 1f / (1f - dropoutP);
        for (int h = 0; h < heads; h++)
        {
            int col = h * hd;
            Transpose16(k + col, ldk, tk, kt, hd);
            for (int i0 = 0; i0 < tq; i0 += Chunk)
            {
                int rows = Math.Min(Chunk, tq - i0);

                // (1) Scores, masked (-∞ for padding, the causal future and keys past tk).
                for (int n0 = 0; n0 < rows; n0 += 4)
                {
                    int count = Math.Min(4, rows - n0), i = i0 + n0;
                    int r0 = BlockRow(i, 0, count), r1 = BlockRow(i, 1, count), r2 = BlockRow(i, 2, count), r3 = BlockRow(i, 3, count);
                    float* sBlock = s + n0 * MaxKeys16;
                    for (int c = 0; c < vectors; c++)
                    {
                        Dot4(q + (nint)r0 * ldq + col, q + (nint)r1 * ldq + col, q + (nint)r2 * ldq + col, q + (nint)r3 * ldq + col, kt + c * 16, hd, out var a0, out var a1, out var a2, out var a3);
                        ScoreVector(a0, scale, mask, c, causal ? Math.Min(tk, r0 + 1) : tk, sBlock);
                        ScoreVector(a1, scale, mask, c, causal ? Math.Min(tk, r1 + 1) : tk, sBlock + MaxKeys16);
                        ScoreVector(a2, scale, mask, c, causal ? Math.Min(tk, r2 + 1) : tk, sBlock + 2 * MaxKeys16);
                        ScoreVector(a3, scale, mask, c, causal ? Math.Min(tk, r3 + 1) : tk, sBlock + 3 * MaxKeys16);
                    }
                }

                // (2) Softmax numerators (0 for masked keys), 1 / their sum (0 for a fully masked row: it outputs
                // zeros), lse; dropout then scales the kept weights.
                for (int n = 0; n < rows; n++)
                {
                    float* sRow = s + n * MaxKeys16;
                    Vector512<float> maxes = Vector512.Load(sRow);
                    for (int c = 1; c < vectors; c++)
                    {
                        maxes = Vector512.Max(maxes, Vector512.Load(sRow + c * 16));
                    }

                    float max = MaxAcross(maxes);
                    float sum = Exp16(sRow, max, vectors);
                    inverseSums[n] = sum > 0f ? 1f / sum : 0f;
                    if (lse != null)
                    {
                        lse[(nint)h * tq + i0 + n] = sum > 0f ? max + MathF.Log(sum) : float.NegativeInfinity;
                    }

                    if (dropout)
                    {
                        Keep16(seed32, (uint)(((long)h * tq + i0 + n) * tk), threshold, keepScale, vectors, keep);
                        Multiply16(sRow, keep, vectors);
                    }
                }

                // (3) o_i = Σ_j p_ij v_j / sum_i over the keys any of the 4 rows sees, two keys at a time (8 chains),
                // a vector of 16 head columns at a time.
                for (int n0 = 0; n0 < rows; n0 += 4)
                {
                    int count = Math.Min(4, rows - n0), i = i0 + n0;
                    float* p = s + n0 * MaxKeys16;
                    int end = causal ? Math.Min(tk, BlockRow(i, 3, count) + 1) : tk;
                    for (int cb = col; cb < col + hd; cb += 16)
                    {
                        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                        int j = 0;
                        for (; j + 2 <= end; j += 2)
                        {
                            Vector512<float> v0 = Vector512.Load(v + (nint)j * ldv + cb);
                            Vector512<float> v1 = Vector512.Load(v + (nint)(j + 1) * ldv + cb);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), v0, a0);
                            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j + 1]), v1, b0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[MaxKeys16 + j]), v0, a1);
                            b1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[MaxKeys16 + j + 1]), v1, b1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * MaxKeys16 + j]), v0, a2);
                            b2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * MaxKeys16 + j + 1]), v1, b2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * MaxKeys16 + j]), v0, a3);
                            b3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * MaxKeys16 + j + 1]), v1, b3);
                        }

                        if (j < end)
                        {
                            Vector512<float> v0 = Vector512.Load(v + (nint)j * ldv + cb);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), v0, a0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[MaxKeys16 + j]), v0, a1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * MaxKeys16 + j]), v0, a2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * MaxKeys16 + j]), v0, a3);
                        }

                        ((a0 + b0) * inverseSums[n0]).Store(o + (nint)i * ldo + cb);
                        if (count > 1)
                        {
                            ((a1 + b1) * inverseSums[n0 + 1]).Store(o + (nint)(i + 1) * ldo + cb);
                        }

                        if (count > 2)
                        {
                            ((a2 + b2) * inverseSums[n0 + 2]).Store(o + (nint)(i + 2) * ldo + cb);
                        }

                        if (count > 3)
                        {
                            ((a3 + b3) * inverseSums[n0 + 3]).Store(o + (nint)(i + 3) * ldo + cb);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Per head, chunks of up to 16 query rows: (1) for 4 rows at a time, P from the scores and the saved lse, dP =
    /// dO·vᵀ, dS = P (dP - D) scale, kept in [16][keys] stack buffers; (2) dv_j += Σ_i P̃_ij dO_i and dk_j += Σ_i dS_ij
    /// q_i, 4 keys at a time in registers, one read-modify-write of each key row per chunk; (3) dq_i += Σ_j dS_ij k_j.
    /// </summary>
    private static void Backward16(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, float* dO, int lddo, float* lse,
        float* dq, int lddq, float* dk, int lddk, float* dv, int lddv, int tq, int tk, int heads, int hd,
        float scale, bool causal, int* keyTokens, int padToken, float dropoutP, ulong dropoutSeed)
    {
        const int Chunk = 16;
        float* kt = stackalloc float[hd * MaxKeys16];
        float* vt = stackalloc float[hd * MaxKeys16];
        float* mask = stackalloc float[MaxKeys16];
        float* pk = stackalloc float[Chunk * MaxKeys16]; // P̃ (after dropout) of the chunk's rows
        float* ds = stackalloc float[Chunk * MaxKeys16]; // dP, then dS
        float* keep = stackalloc float[MaxKeys16];
        KeyMask16(tk, keyTokens, padToken, mask);
        int vectors = (tk + 15) / 16;
        bool dropout = dropoutP > 0f;
        uint threshold = DropoutMask.Threshold(dropoutP), seed32 = DropoutMask.Seed32(dropoutSeed);
        float keepScale = dropoutP >= 1f ? 0f : 1f / (1f - dropoutP);
        for (int h = 0; h < heads; h++)
        {
            int col = h * hd;
            Transpose16(k + col, ldk, tk, kt, hd);
            Transpose16(v + col, ldv, tk, vt, hd);
            for (int i0 = 0; i0 < tq; i0 += Chunk)
            {
                int rows = Math.Min(Chunk, tq - i0);

                // (1) P̃ and dS of the chunk's rows.
                for (int n0 = 0; n0 < rows; n0 += 4)
                {
                    int count = Math.Min(4, rows - n0), i = i0 + n0;
                    int r0 = BlockRow(i, 0, count), r1 = BlockRow(i, 1, count), r2 = BlockRow(i, 2, count), r3 = BlockRow(i, 3, count);
                    float* p = pk + n0 * MaxKeys16;
                    float* d = ds + n0 * MaxKeys16;
                    for (int c = 0; c < vectors; c++)
                    {
                        Dot4(q + (nint)r0 * ldq + col, q + (nint)r1 * ldq + col, q + (nint)r2 * ldq + col, q + (nint)r3 * ldq + col, kt + c * 16, hd, out var s0, out var s1, out var s2, out var s3);
                        ScoreVector(s0, scale, mask, c, causal ? Math.Min(tk, r0 + 1) : tk, p);
                        ScoreVector(s1, scale, mask, c, causal ? Math.Min(tk, r1 + 1) : tk, p + MaxKeys16);
                        ScoreVector(s2, scale, mask, c, causal ? Math.Min(tk, r2 + 1) : tk, p + 2 * MaxKeys16);
                        ScoreVector(s3, scale, mask, c, causal ? Math.Min(tk, r3 + 1) : tk, p + 3 * MaxKeys16);
                        Dot4(dO + (nint)r0 * lddo + col, dO + (nint)r1 * lddo + col, dO + (nint)r2 * lddo + col, dO + (nint)r3 * lddo + col, vt + c * 16, hd, out var g0, out var g1, out var g2, out var g3);
                        g0.Store(d + c * 16);
                        g1.Store(d + MaxKeys16 + c * 16);
                        g2.Store(d + 2 * MaxKeys16 + c * 16);
                        g3.Store(d + 3 * MaxKeys16 + c * 16);
                    }

                    for (int n = 0; n < count; n++)
                    {
                        int row = i + n;
                        float* pRow = p + n * MaxKeys16, dRow = d + n * MaxKeys16;
                        float rowLse = lse[(nint)h * tq + row];
                        if (rowLse == float.NegativeInfinity)
                        {
                            // every key masked: the output was a constant zero, nothing flows back
                            new Span<float>(pRow, vectors * 16).Clear();
                            new Span<float>(dRow, vectors * 16).Clear();
                            continue;
                        }

                        Exp16(pRow, rowLse, vectors); // P
                        if (dropout)
                        {
                            Keep16(seed32, (uint)(((long)h * tq + row) * tk), threshold, keepScale, vectors, keep);
                            Multiply16(dRow, keep, vectors);
                        }

                        Vector512<float> dOo = Vector512<float>.Zero; // D_i = dO_i · o_i
                        for (int cb = col; cb < col + hd; cb += 16)
                        {
                            dOo = Vector512.FusedMultiplyAdd(Vector512.Load(dO + (nint)row * lddo + cb), Vector512.Load(o + (nint)row * ldo + cb), dOo);
                        }

                        Vector512<float> di = Vector512.Create(Vector512.Sum(dOo));
                        for (int c = 0; c < vectors; c++)
                        {
                            Vector512<float> pc = Vector512.Load(pRow + c * 16);
                            (pc * (Vector512.Load(dRow + c * 16) - di) * scale).Store(dRow + c * 16);
                        }

                        if (dropout)
                        {
                            Multiply16(pRow, keep, vectors);
                        }
                    }
                }

                // (2) dv_j += Σ_i P̃_ij dO_i and dk_j += Σ_i dS_ij q_i, 4 keys and 16 head columns at a time.
                int keys = causal ? Math.Min(tk, i0 + rows) : tk;
                for (int cb = col; cb < col + hd; cb += 16)
                {
                    int j = 0;
                    for (; j + 4 <= keys; j += 4)
                    {
                        Vector512<float> v0 = Vector512<float>.Zero, v1 = v0, v2 = v0, v3 = v0, k0 = v0, k1 = v0, k2 = v0, k3 = v0;
                        for (int n = 0; n < rows; n++)
                        {
                            Vector512<float> dOi = Vector512.Load(dO + (nint)(i0 + n) * lddo + cb);
                            Vector512<float> qi = Vector512.Load(q + (nint)(i0 + n) * ldq + cb);
                            float* p = pk + n * MaxKeys16 + j;
                            float* d = ds + n * MaxKeys16 + j;
                            v0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0]), dOi, v0);
                            k0 = Vector512.FusedMultiplyAdd(Vector512.Create(d[0]), qi, k0);
                            v1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[1]), dOi, v1);
                            k1 = Vector512.FusedMultiplyAdd(Vector512.Create(d[1]), qi, k1);
                            v2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2]), dOi, v2);
                            k2 = Vector512.FusedMultiplyAdd(Vector512.Create(d[2]), qi, k2);
                            v3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3]), dOi, v3);
                            k3 = Vector512.FusedMultiplyAdd(Vector512.Create(d[3]), qi, k3);
                        }

                        AddTo(dv + (nint)j * lddv + cb, v0);
                        AddTo(dk + (nint)j * lddk + cb, k0);
                        AddTo(dv + (nint)(j + 1) * lddv + cb, v1);
                        AddTo(dk + (nint)(j + 1) * lddk + cb, k1);
                        AddTo(dv + (nint)(j + 2) * lddv + cb, v2);
                        AddTo(dk + (nint)(j + 2) * lddk + cb, k2);
                        AddTo(dv + (nint)(j + 3) * lddv + cb, v3);
                        AddTo(dk + (nint)(j + 3) * lddk + cb, k3);
                    }

                    for (; j < keys; j++)
                    {
                        Vector512<float> v0 = Vector512<float>.Zero, k0 = v0;
                        for (int n = 0; n < rows; n++)
                        {
                            v0 = Vector512.FusedMultiplyAdd(Vector512.Create(pk[n * MaxKeys16 + j]), Vector512.Load(dO + (nint)(i0 + n) * lddo + cb), v0);
                            k0 = Vector512.FusedMultiplyAdd(Vector512.Create(ds[n * MaxKeys16 + j]), Vector512.Load(q + (nint)(i0 + n) * ldq + cb), k0);
                        }

                        AddTo(dv + (nint)j * lddv + cb, v0);
                        AddTo(dk + (nint)j * lddk + cb, k0);
                    }
                }

                // (3) dq_i += Σ_j dS_ij k_j, 4 rows at a time, two keys at a time (8 chains), 16 head columns at a time.
                for (int n0 = 0; n0 < rows; n0 += 4)
                {
                    int count = Math.Min(4, rows - n0);
                    float* d = ds + n0 * MaxKeys16;
                    int end = causal ? Math.Min(tk, i0 + n0 + count) : tk;
                    for (int cb = col; cb < col + hd; cb += 16)
                    {
                        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
                        int jj = 0;
                        for (; jj + 2 <= end; jj += 2)
                        {
                            Vector512<float> x0 = Vector512.Load(k + (nint)jj * ldk + cb);
                            Vector512<float> x1 = Vector512.Load(k + (nint)(jj + 1) * ldk + cb);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(d[jj]), x0, a0);
                            b0 = Vector512.FusedMultiplyAdd(Vector512.Create(d[jj + 1]), x1, b0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(d[MaxKeys16 + jj]), x0, a1);
                            b1 = Vector512.FusedMultiplyAdd(Vector512.Create(d[MaxKeys16 + jj + 1]), x1, b1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(d[2 * MaxKeys16 + jj]), x0, a2);
                            b2 = Vector512.FusedMultiplyAdd(Vector512.Create(d[2 * MaxKeys16 + jj + 1]), x1, b2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(d[3 * MaxKeys16 + jj]), x0, a3);
                            b3 = Vector512.FusedMultiplyAdd(Vector512.Create(d[3 * MaxKeys16 + jj + 1]), x1, b3);
                        }

                        if (jj < end)
                        {
                            Vector512<float> x0 = Vector512.Load(k + (nint)jj * ldk + cb);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(d[jj]), x0, a0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(d[MaxKeys16 + jj]), x0, a1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(d[2 * MaxKeys16 + jj]), x0, a2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(d[3 * MaxKeys16 + jj]), x0, a3);
                        }

                        int i = i0 + n0;
                        AddTo(dq + (nint)i * lddq + cb, a0 + b0);
                        if (count > 1)
                        {
                            AddTo(dq + (nint)(i + 1) * lddq + cb, a1 + b1);
                        }

                        if (count > 2)
                        {
                            AddTo(dq + (nint)(i + 2) * lddq + cb, a2 + b2);
                        }

                        if (count > 3)
                        {
                            AddTo(dq + (nint)(i + 3) * lddq + cb, a3 + b3);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(float* row, Vector512<float> x) => (Vector512.Load(row) + x).Store(row);
}
