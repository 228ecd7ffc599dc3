using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphCompiler.Kernels;

// The blocked path of AttentionKernel, written once over ISimdLanes and compiled per vector width (16, 8 or 4 floats:
// the widest the machine accelerates), for head sizes that are multiples of the width (up to 128) and any number of
// keys, taken in blocks of 64: per head and block, the keys (and values, for backward) are transposed into
// [headDim][64] on the stack, so a query's scores are broadcast multiply-adds over whole vectors of keys instead of
// one horizontal sum per key; 4
// query rows share each load (8 independent multiply-add chains); the softmax, the masks and the dropout mask are
// computed a vector of keys at a time, and rows of the output a vector of head columns at a time. Same results as
// the general path (the same masks, the same dropout mask, the same lse), up to float rounding order.
public static unsafe partial class AttentionKernel
{
    private const int MaxBlockedHeadDim = 128;
    private const int MaxKeys = 64;

    /// <summary>The lanes of the blocked path for a head size (the widest accelerated width that divides it), or 0 for none.</summary>
    private static int BlockedLanes(int headDim) =>
        headDim > MaxBlockedHeadDim ? 0
        : Vector512.IsHardwareAccelerated && headDim % 16 == 0 ? 16
        : Vector256.IsHardwareAccelerated && headDim % 8 == 0 ? 8
        : Vector128.IsHardwareAccelerated && headDim % 4 == 0 ? 4
        : 0;

    /// <summary>
    /// t[d · 64 + j] = rows[j · ld + d] for the head's <paramref name="hd"/> columns: with 512-bit vectors, 16 keys x 16
    /// columns at a time in registers; the remaining keys (and every key at other widths) one by one.
    /// </summary>
    private static void TransposeHead<TV>(float* rows, int ld, int count, float* t, int hd)
        where TV : struct, ISimdLanes<TV>
    {
        int j = 0;
        if (typeof(TV) == typeof(Lanes512) && Avx512F.IsSupported)
        {
            for (; j + 16 <= count; j += 16)
            {
                for (int cb = 0; cb < hd; cb += 16)
                {
                    Transpose16x16(rows + (nint)j * ld + cb, ld, t + cb * MaxKeys + j);
                }
            }
        }

        for (; j < count; j++)
        {
            float* r = rows + (nint)j * ld;
            for (int d = 0; d < hd; d++)
            {
                t[d * MaxKeys + j] = r[d];
            }
        }

        // Zeros up to the end of the last vector of keys: those lanes are masked, but garbage there could be a
        // denormal that slows the multiply-adds down.
        if (count % TV.Count != 0)
        {
            for (int d = 0; d < hd; d++)
            {
                for (int jj = count; jj % TV.Count != 0; jj++)
                {
                    t[d * MaxKeys + jj] = 0f;
                }
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
        r0.Store(t + 0 * MaxKeys);
        r1.Store(t + 1 * MaxKeys);
        r2.Store(t + 2 * MaxKeys);
        r3.Store(t + 3 * MaxKeys);
        r4.Store(t + 4 * MaxKeys);
        r5.Store(t + 5 * MaxKeys);
        r6.Store(t + 6 * MaxKeys);
        r7.Store(t + 7 * MaxKeys);
        r8.Store(t + 8 * MaxKeys);
        r9.Store(t + 9 * MaxKeys);
        r10.Store(t + 10 * MaxKeys);
        r11.Store(t + 11 * MaxKeys);
        r12.Store(t + 12 * MaxKeys);
        r13.Store(t + 13 * MaxKeys);
        r14.Store(t + 14 * MaxKeys);
        r15.Store(t + 15 * MaxKeys);
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
    private static void KeyMask(int tk, int* keyTokens, int padToken, float* mask)
    {
        for (int j = 0; j < MaxKeys; j++)
        {
            mask[j] = j < tk && (keyTokens == null || keyTokens[j] != padToken) ? 0f : float.NegativeInfinity;
        }
    }

    /// <summary>
    /// r_n = Σ_d x_n[d]·t[d][one vector of keys] over the head's <paramref name="hd"/> columns for the 4 rows x_n: two
    /// accumulators per row (the two halves of d), so 8 independent multiply-add chains keep the FMA pipes busy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4<TV>(float* x0, float* x1, float* x2, float* x3, float* t, int hd, out TV r0, out TV r1, out TV r2, out TV r3)
        where TV : struct, ISimdLanes<TV>
    {
        TV a0 = TV.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int half = hd / 2;
        for (int d = 0; d < half; d++)
        {
            TV lo = TV.Load(t + d * MaxKeys);
            TV hi = TV.Load(t + (d + half) * MaxKeys);
            a0 = TV.MultiplyAdd(TV.Broadcast(x0[d]), lo, a0);
            b0 = TV.MultiplyAdd(TV.Broadcast(x0[d + half]), hi, b0);
            a1 = TV.MultiplyAdd(TV.Broadcast(x1[d]), lo, a1);
            b1 = TV.MultiplyAdd(TV.Broadcast(x1[d + half]), hi, b1);
            a2 = TV.MultiplyAdd(TV.Broadcast(x2[d]), lo, a2);
            b2 = TV.MultiplyAdd(TV.Broadcast(x2[d + half]), hi, b2);
            a3 = TV.MultiplyAdd(TV.Broadcast(x3[d]), lo, a3);
            b3 = TV.MultiplyAdd(TV.Broadcast(x3[d + half]), hi, b3);
        }

        r0 = TV.Add(a0, b0);
        r1 = TV.Add(a1, b1);
        r2 = TV.Add(a2, b2);
        r3 = TV.Add(a3, b3);
    }

    /// <summary>
    /// Row n of a 4-row block starting at query <paramref name="i"/> of which <paramref name="count"/> rows are
    /// real: the rows past the end repeat the last real one, so every read stays in bounds (their results are
    /// never stored).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BlockRow(int i, int n, int count) => i + Math.Min(n, count - 1);

    /// <summary>Stores the scores of the vector of keys <paramref name="c"/>: scale·acc + mask, -∞ from key <paramref name="end"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoreVector<TV>(TV acc, float scale, float* mask, int c, int end, float* sRow)
        where TV : struct, ISimdLanes<TV>
    {
        int first = c * TV.Count;
        TV.Store(TV.Below(TV.MultiplyAdd(acc, TV.Broadcast(scale), TV.Load(mask + first)), first, end), sRow + first);
    }

    /// <summary>
    /// The masked scores of the 4 query rows from <paramref name="i"/> (<paramref name="count"/> of them real, see
    /// <see cref="BlockRow"/>) against every vector of the key block that starts at key <paramref name="j0"/> and holds
    /// <paramref name="kb"/> keys, into 4 rows of <paramref name="sBlock"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores4<TV>(
        float* q, int ldq, int col, float* kt, int hd, int i, int count, int j0, int kb, int vectors, bool causal, float scale, float* mask, float* sBlock)
        where TV : struct, ISimdLanes<TV>
    {
        int r0 = BlockRow(i, 0, count), r1 = BlockRow(i, 1, count), r2 = BlockRow(i, 2, count), r3 = BlockRow(i, 3, count);
        for (int c = 0; c < vectors; c++)
        {
            Dot4<TV>(q + (nint)r0 * ldq + col, q + (nint)r1 * ldq + col, q + (nint)r2 * ldq + col, q + (nint)r3 * ldq + col, kt + c * TV.Count, hd, out var a0, out var a1, out var a2, out var a3);
            ScoreVector(a0, scale, mask, c, KeysSeen(r0, j0, kb, causal), sBlock);
            ScoreVector(a1, scale, mask, c, KeysSeen(r1, j0, kb, causal), sBlock + MaxKeys);
            ScoreVector(a2, scale, mask, c, KeysSeen(r2, j0, kb, causal), sBlock + 2 * MaxKeys);
            ScoreVector(a3, scale, mask, c, KeysSeen(r3, j0, kb, causal), sBlock + 3 * MaxKeys);
        }
    }

    /// <summary>How many keys of the block [j0, j0 + kb) query <paramref name="row"/> may see (0 or less: none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int KeysSeen(int row, int j0, int kb, bool causal) => causal ? Math.Min(kb, row + 1 - j0) : kb;

    /// <summary>
    /// One vector of an output row from this key block's P·V part <paramref name="r"/>: the first block starts the row,
    /// a later one adds to it rescaled by <paramref name="correction"/> (its running max grew), and the last one divides
    /// by the softmax sum (<paramref name="inverseSum"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputVector<TV>(TV r, float* o, bool first, bool last, float correction, float inverseSum)
        where TV : struct, ISimdLanes<TV>
    {
        TV acc = first ? r : TV.MultiplyAdd(TV.Load(o), TV.Broadcast(correction), r);
        TV.Store(last ? TV.Multiply(acc, TV.Broadcast(inverseSum)) : acc, o);
    }

    /// <summary>
    /// r_n = Σ_{j &lt; end} w[n·64 + j]·x_j for 4 rows of weights <paramref name="w"/> (stride 64) and one vector of
    /// columns of the rows x_j = x + j·ldx: two keys at a time into separate accumulators, so 8 independent chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedRows4<TV>(float* w, float* x, int ldx, int end, out TV r0, out TV r1, out TV r2, out TV r3)
        where TV : struct, ISimdLanes<TV>
    {
        TV a0 = TV.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int j = 0;
        for (; j + 2 <= end; j += 2)
        {
            TV x0 = TV.Load(x + (nint)j * ldx);
            TV x1 = TV.Load(x + (nint)(j + 1) * ldx);
            a0 = TV.MultiplyAdd(TV.Broadcast(w[j]), x0, a0);
            b0 = TV.MultiplyAdd(TV.Broadcast(w[j + 1]), x1, b0);
            a1 = TV.MultiplyAdd(TV.Broadcast(w[MaxKeys + j]), x0, a1);
            b1 = TV.MultiplyAdd(TV.Broadcast(w[MaxKeys + j + 1]), x1, b1);
            a2 = TV.MultiplyAdd(TV.Broadcast(w[2 * MaxKeys + j]), x0, a2);
            b2 = TV.MultiplyAdd(TV.Broadcast(w[2 * MaxKeys + j + 1]), x1, b2);
            a3 = TV.MultiplyAdd(TV.Broadcast(w[3 * MaxKeys + j]), x0, a3);
            b3 = TV.MultiplyAdd(TV.Broadcast(w[3 * MaxKeys + j + 1]), x1, b3);
        }

        if (j < end)
        {
            TV x0 = TV.Load(x + (nint)j * ldx);
            a0 = TV.MultiplyAdd(TV.Broadcast(w[j]), x0, a0);
            a1 = TV.MultiplyAdd(TV.Broadcast(w[MaxKeys + j]), x0, a1);
            a2 = TV.MultiplyAdd(TV.Broadcast(w[2 * MaxKeys + j]), x0, a2);
            a3 = TV.MultiplyAdd(TV.Broadcast(w[3 * MaxKeys + j]), x0, a3);
        }

        r0 = TV.Add(a0, b0);
        r1 = TV.Add(a1, b1);
        r2 = TV.Add(a2, b2);
        r3 = TV.Add(a3, b3);
    }

    /// <summary>p[j] = exp(s[j] - shift) with -∞ giving exactly 0 (so a row whose keys are all masked is all 0); returns the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpRow<TV>(float* s, float shift, int vectors)
        where TV : struct, ISimdLanes<TV>
    {
        TV sum = TV.Zero;
        for (int c = 0; c < vectors; c++)
        {
            TV e = TV.ExpShifted(TV.Load(s + c * TV.Count), shift);
            TV.Store(e, s + c * TV.Count);
            sum = TV.Add(sum, e);
        }

        return TV.Sum(sum);
    }

    /// <summary>keep[j] = 1/(1-p) for kept weights, 0 for dropped ones, for the row's keys.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeepRow<TV>(DropoutDraw drop, uint rowIndex, int vectors, float* keep)
        where TV : struct, ISimdLanes<TV>
    {
        for (int c = 0; c < vectors; c++)
        {
            TV.Store(TV.Keep(drop.Seed32, rowIndex + (uint)(c * TV.Count), drop.Threshold, drop.KeepScale), keep + c * TV.Count);
        }
    }

    /// <summary>row[j] *= keep[j] over the row's vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyRow<TV>(float* row, float* keep, int vectors)
        where TV : struct, ISimdLanes<TV>
    {
        for (int c = 0; c < vectors; c++)
        {
            TV.Store(TV.Multiply(TV.Load(row + c * TV.Count), TV.Load(keep + c * TV.Count)), row + c * TV.Count);
        }
    }

    /// <summary>
    /// Per head, chunks of up to 16 query rows, and per chunk the keys in blocks of 64 with an online softmax (a running
    /// max and sum per row; the partial output is rescaled when the max grows). Per block three passes, each over
    /// independent rows so that they overlap in the core: (1) the scores, 4 rows at a time, into a [16][64] stack buffer;
    /// (2) per row, the softmax numerators (and dropout) and the running max and sum; (3) P·V, 4 rows at a time, added
    /// to the output rows (divided by the sum after the last block). With at most 64 keys, the keys are transposed once
    /// per head and the output is written once.
    /// </summary>
    [SkipLocalsInit] // every stack buffer is written before its values are used (TransposeHead zeros the lanes past the keys)
    private static void ForwardBlocked<TV>(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, int tq, int tk, int heads, int hd,
        float scale, bool causal, int* keyTokens, int padToken, float* lse, float dropoutP, ulong dropoutSeed)
        where TV : struct, ISimdLanes<TV>
    {
        const int Chunk = 16;
        float* kt = stackalloc float[hd * MaxKeys];
        float* mask = stackalloc float[MaxKeys];
        float* s = stackalloc float[Chunk * MaxKeys];
        float* keep = stackalloc float[MaxKeys];
        float* runMax = stackalloc float[Chunk];
        float* runSum = stackalloc float[Chunk];
        float* corrections = stackalloc float[Chunk];
        float* inverseSums = stackalloc float[Chunk];
        int lanes = TV.Count;
        bool oneBlock = tk <= MaxKeys;
        if (oneBlock)
        {
            KeyMask(tk, keyTokens, padToken, mask);
        }

        var drop = new DropoutDraw(dropoutP, dropoutSeed);
        for (int h = 0; h < heads; h++)
        {
            int col = h * hd;
            for (int i0 = 0; i0 < tq; i0 += Chunk)
            {
                int rows = Math.Min(Chunk, tq - i0);
                int keys = causal ? Math.Min(tk, i0 + rows) : tk; // the keys any row of the chunk sees
                for (int j0 = 0; j0 < keys; j0 += MaxKeys)
                {
                    int kb = Math.Min(MaxKeys, keys - j0), vectors = (kb + lanes - 1) / lanes;
                    bool first = j0 == 0, last = j0 + kb == keys;
                    if (!oneBlock)
                    {
                        KeyMask(kb, keyTokens == null ? null : keyTokens + j0, padToken, mask);
                    }

                    if (!oneBlock || i0 == 0)
                    {
                        TransposeHead<TV>(k + (nint)j0 * ldk + col, ldk, oneBlock ? tk : kb, kt, hd); // one block: every key, once per head
                    }

                    // (1) Scores, masked (-∞ for padding, the causal future and keys past the block).
                    for (int n0 = 0; n0 < rows; n0 += 4)
                    {
                        Scores4<TV>(q, ldq, col, kt, hd, i0 + n0, Math.Min(4, rows - n0), j0, kb, vectors, causal, scale, mask, s + n0 * MaxKeys);
                    }

                    // (2) Softmax numerators against the running max (0 for masked keys), the running sum, and how much
                    // the output so far shrinks; after the last block 1 / the sum (0 for a row whose keys were all
                    // masked: it outputs zeros) and lse. Dropout then scales the kept weights.
                    for (int n = 0; n < rows; n++)
                    {
                        float* sRow = s + n * MaxKeys;
                        TV maxes = TV.Load(sRow);
                        for (int c = 1; c < vectors; c++)
                        {
                            maxes = TV.Max(maxes, TV.Load(sRow + c * lanes));
                        }

                        float max = first ? float.NegativeInfinity : runMax[n];
                        float newMax = Math.Max(max, TV.MaxAcross(maxes));
                        float correction = first || newMax == max ? 1f : MathF.Exp(max - newMax); // max < newMax: newMax is finite
                        float sum = (first ? 0f : runSum[n] * correction) + ExpRow<TV>(sRow, newMax, vectors);
                        runMax[n] = newMax;
                        runSum[n] = sum;
                        corrections[n] = correction;
                        if (last)
                        {
                            inverseSums[n] = sum > 0f ? 1f / sum : 0f;
                            if (lse != null)
                            {
                                lse[(nint)h * tq + i0 + n] = sum > 0f ? newMax + MathF.Log(sum) : float.NegativeInfinity;
                            }
                        }

                        if (drop.On)
                        {
                            KeepRow<TV>(drop, (uint)((((long)h * tq + i0 + n) * tk) + j0), vectors, keep);
                            MultiplyRow<TV>(sRow, keep, vectors);
                        }
                    }

                    // (3) o_i (+)= Σ_j p_ij v_j over the block's keys any of the 4 rows sees, two keys at a time (8
                    // chains), a vector of head columns at a time.
                    for (int n0 = 0; n0 < rows; n0 += 4)
                    {
                        int count = Math.Min(4, rows - n0), i = i0 + n0;
                        float* p = s + n0 * MaxKeys;
                        int end = KeysSeen(BlockRow(i, 3, count), j0, kb, causal);
                        for (int cb = col; cb < col + hd; cb += lanes)
                        {
                            WeightedRows4(p, v + (nint)j0 * ldv + cb, ldv, end, out TV r0, out TV r1, out TV r2, out TV r3);
                            OutputVector(r0, o + (nint)i * ldo + cb, first, last, corrections[n0], inverseSums[n0]);
                            if (count > 1)
                            {
                                OutputVector(r1, o + (nint)(i + 1) * ldo + cb, first, last, corrections[n0 + 1], inverseSums[n0 + 1]);
                            }

                            if (count > 2)
                            {
                                OutputVector(r2, o + (nint)(i + 2) * ldo + cb, first, last, corrections[n0 + 2], inverseSums[n0 + 2]);
                            }

                            if (count > 3)
                            {
                                OutputVector(r3, o + (nint)(i + 3) * ldo + cb, first, last, corrections[n0 + 3], inverseSums[n0 + 3]);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Per head, chunks of up to 16 query rows, and per chunk the keys in blocks of 64: (1) for 4 rows at a time, P from
    /// the scores and the saved lse, dP = dO·vᵀ, dS = P (dP - D) scale, kept in [16][64] stack buffers; (2) dv_j += Σ_i
    /// P̃_ij dO_i and dk_j += Σ_i dS_ij q_i, 4 keys at a time in registers, one read-modify-write of each key row per
    /// chunk; (3) dq_i += Σ_j dS_ij k_j. With at most 64 keys, keys and values are transposed once per head.
    /// </summary>
    [SkipLocalsInit] // every stack buffer is written before its values are used (TransposeHead zeros the lanes past the keys)
    private static void BackwardBlocked<TV>(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, float* dO, int lddo, float* lse,
        float* dq, int lddq, float* dk, int lddk, float* dv, int lddv, int tq, int tk, int heads, int hd,
        float scale, bool causal, int* keyTokens, int padToken, float dropoutP, ulong dropoutSeed)
        where TV : struct, ISimdLanes<TV>
    {
        const int Chunk = 16;
        float* kt = stackalloc float[hd * MaxKeys];
        float* vt = stackalloc float[hd * MaxKeys];
        float* mask = stackalloc float[MaxKeys];
        float* pk = stackalloc float[Chunk * MaxKeys]; // P̃ (after dropout) of the chunk's rows
        float* ds = stackalloc float[Chunk * MaxKeys]; // dP, then dS
        float* keep = stackalloc float[MaxKeys];
        float* rowDots = stackalloc float[Chunk]; // D_i = dO_i · o_i
        int lanes = TV.Count;
        bool oneBlock = tk <= MaxKeys;
        if (oneBlock)
        {
            KeyMask(tk, keyTokens, padToken, mask);
        }

        var drop = new DropoutDraw(dropoutP, dropoutSeed);
        for (int h = 0; h < heads; h++)
        {
            int col = h * hd;
            for (int i0 = 0; i0 < tq; i0 += Chunk)
            {
                int rows = Math.Min(Chunk, tq - i0);
                for (int n = 0; n < rows; n++)
                {
                    TV dOo = TV.Zero;
                    for (int cb = col; cb < col + hd; cb += lanes)
                    {
                        dOo = TV.MultiplyAdd(TV.Load(dO + (nint)(i0 + n) * lddo + cb), TV.Load(o + (nint)(i0 + n) * ldo + cb), dOo);
                    }

                    rowDots[n] = TV.Sum(dOo);
                }

                int chunkKeys = causal ? Math.Min(tk, i0 + rows) : tk; // the keys any row of the chunk sees
                for (int j0 = 0; j0 < chunkKeys; j0 += MaxKeys)
                {
                    int kb = Math.Min(MaxKeys, chunkKeys - j0), vectors = (kb + lanes - 1) / lanes;
                    if (!oneBlock)
                    {
                        KeyMask(kb, keyTokens == null ? null : keyTokens + j0, padToken, mask);
                    }

                    if (!oneBlock || i0 == 0)
                    {
                        TransposeHead<TV>(k + (nint)j0 * ldk + col, ldk, oneBlock ? tk : kb, kt, hd); // one block: every key, once per head
                        TransposeHead<TV>(v + (nint)j0 * ldv + col, ldv, oneBlock ? tk : kb, vt, hd);
                    }

                    // (1) P̃ and dS of the chunk's rows against the block's keys.
                    for (int n0 = 0; n0 < rows; n0 += 4)
                    {
                        int count = Math.Min(4, rows - n0), i = i0 + n0;
                        int r0 = BlockRow(i, 0, count), r1 = BlockRow(i, 1, count), r2 = BlockRow(i, 2, count), r3 = BlockRow(i, 3, count);
                        float* p = pk + n0 * MaxKeys;
                        float* d = ds + n0 * MaxKeys;
                        Scores4<TV>(q, ldq, col, kt, hd, i, count, j0, kb, vectors, causal, scale, mask, p);
                        for (int c = 0; c < vectors; c++)
                        {
                            Dot4<TV>(dO + (nint)r0 * lddo + col, dO + (nint)r1 * lddo + col, dO + (nint)r2 * lddo + col, dO + (nint)r3 * lddo + col, vt + c * lanes, hd, out var g0, out var g1, out var g2, out var g3);
                            TV.Store(g0, d + c * lanes);
                            TV.Store(g1, d + MaxKeys + c * lanes);
                            TV.Store(g2, d + 2 * MaxKeys + c * lanes);
                            TV.Store(g3, d + 3 * MaxKeys + c * lanes);
                        }

                        for (int n = 0; n < count; n++)
                        {
                            int row = i + n;
                            float* pRow = p + n * MaxKeys, dRow = d + n * MaxKeys;
                            float rowLse = lse[(nint)h * tq + row];
                            if (rowLse == float.NegativeInfinity)
                            {
                                // every key masked: the output was a constant zero, nothing flows back
                                new Span<float>(pRow, vectors * lanes).Clear();
                                new Span<float>(dRow, vectors * lanes).Clear();
                                continue;
                            }

                            ExpRow<TV>(pRow, rowLse, vectors); // P
                            if (drop.On)
                            {
                                KeepRow<TV>(drop, (uint)((((long)h * tq + row) * tk) + j0), vectors, keep);
                                MultiplyRow<TV>(dRow, keep, vectors);
                            }

                            TV di = TV.Broadcast(rowDots[n0 + n]);
                            for (int c = 0; c < vectors; c++)
                            {
                                TV pc = TV.Multiply(TV.Load(pRow + c * lanes), TV.Broadcast(scale));
                                TV.Store(TV.Multiply(pc, TV.Subtract(TV.Load(dRow + c * lanes), di)), dRow + c * lanes);
                            }

                            if (drop.On)
                            {
                                MultiplyRow<TV>(pRow, keep, vectors);
                            }
                        }
                    }

                    // (2) dv_j += Σ_i P̃_ij dO_i and dk_j += Σ_i dS_ij q_i for the block's keys any row of the chunk
                    // sees, 4 keys and a vector of head columns at a time.
                    int keys = KeysSeen(i0 + rows - 1, j0, kb, causal);
                    float* dkBlock = dk + (nint)j0 * lddk, dvBlock = dv + (nint)j0 * lddv;
                    for (int cb = col; cb < col + hd; cb += lanes)
                    {
                        int j = 0;
                        for (; j + 4 <= keys; j += 4)
                        {
                            TV v0 = TV.Zero, v1 = v0, v2 = v0, v3 = v0, k0 = v0, k1 = v0, k2 = v0, k3 = v0;
                            for (int n = 0; n < rows; n++)
                            {
                                TV dOi = TV.Load(dO + (nint)(i0 + n) * lddo + cb);
                                TV qi = TV.Load(q + (nint)(i0 + n) * ldq + cb);
                                float* p = pk + n * MaxKeys + j;
                                float* d = ds + n * MaxKeys + j;
                                v0 = TV.MultiplyAdd(TV.Broadcast(p[0]), dOi, v0);
                                k0 = TV.MultiplyAdd(TV.Broadcast(d[0]), qi, k0);
                                v1 = TV.MultiplyAdd(TV.Broadcast(p[1]), dOi, v1);
                                k1 = TV.MultiplyAdd(TV.Broadcast(d[1]), qi, k1);
                                v2 = TV.MultiplyAdd(TV.Broadcast(p[2]), dOi, v2);
                                k2 = TV.MultiplyAdd(TV.Broadcast(d[2]), qi, k2);
                                v3 = TV.MultiplyAdd(TV.Broadcast(p[3]), dOi, v3);
                                k3 = TV.MultiplyAdd(TV.Broadcast(d[3]), qi, k3);
                            }

                            AddTo<TV>(dvBlock + (nint)j * lddv + cb, v0);
                            AddTo<TV>(dkBlock + (nint)j * lddk + cb, k0);
                            AddTo<TV>(dvBlock + (nint)(j + 1) * lddv + cb, v1);
                            AddTo<TV>(dkBlock + (nint)(j + 1) * lddk + cb, k1);
                            AddTo<TV>(dvBlock + (nint)(j + 2) * lddv + cb, v2);
                            AddTo<TV>(dkBlock + (nint)(j + 2) * lddk + cb, k2);
                            AddTo<TV>(dvBlock + (nint)(j + 3) * lddv + cb, v3);
                            AddTo<TV>(dkBlock + (nint)(j + 3) * lddk + cb, k3);
                        }

                        for (; j < keys; j++)
                        {
                            TV v0 = TV.Zero, k0 = v0;
                            for (int n = 0; n < rows; n++)
                            {
                                v0 = TV.MultiplyAdd(TV.Broadcast(pk[n * MaxKeys + j]), TV.Load(dO + (nint)(i0 + n) * lddo + cb), v0);
                                k0 = TV.MultiplyAdd(TV.Broadcast(ds[n * MaxKeys + j]), TV.Load(q + (nint)(i0 + n) * ldq + cb), k0);
                            }

                            AddTo<TV>(dvBlock + (nint)j * lddv + cb, v0);
                            AddTo<TV>(dkBlock + (nint)j * lddk + cb, k0);
                        }
                    }

                    // (3) dq_i += Σ_j dS_ij k_j, 4 rows at a time, two keys at a time (8 chains), a vector of head columns
                    // at a time.
                    for (int n0 = 0; n0 < rows; n0 += 4)
                    {
                        int count = Math.Min(4, rows - n0), i = i0 + n0;
                        float* d = ds + n0 * MaxKeys;
                        int end = KeysSeen(BlockRow(i, 3, count), j0, kb, causal);
                        for (int cb = col; cb < col + hd; cb += lanes)
                        {
                            WeightedRows4(d, k + (nint)j0 * ldk + cb, ldk, end, out TV r0, out TV r1, out TV r2, out TV r3);
                            AddTo<TV>(dq + (nint)i * lddq + cb, r0);
                            if (count > 1)
                            {
                                AddTo<TV>(dq + (nint)(i + 1) * lddq + cb, r1);
                            }

                            if (count > 2)
                            {
                                AddTo<TV>(dq + (nint)(i + 2) * lddq + cb, r2);
                            }

                            if (count > 3)
                            {
                                AddTo<TV>(dq + (nint)(i + 3) * lddq + cb, r3);
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TV>(float* row, TV x)
        where TV : struct, ISimdLanes<TV> => TV.Store(TV.Add(TV.Load(row), x), row);
}
