using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// Scaled dot-product attention of nn.MultiheadAttention after its input projections, all heads at once, fused:
/// one pass over the keys in blocks of <see cref="KeyBlock"/> with an online softmax (running max and running
/// sum, rescaling the partial output whenever the max grows), so at most one block of scores exists at a time (on
/// the stack) and the [tq, tk] matrix is never formed. Backward follows FlashAttention: it recomputes the
/// probabilities from q, k and the saved log-sum-exp. Head sizes that are a multiple of the vector width (up to
/// 128) take the blocked path (AttentionKernelBlocked.cs: 4 query rows at a time against keys transposed per
/// block); others take the per-row path in this file.
/// </summary>
/// <remarks>
/// <para>Layout: q, o, dO, dq are [tq] rows and k, v, dk, dv are [tk] rows, each with its own row stride (so q,
/// k and v may be column slices of one packed [t, 3E] projection); head h uses the columns
/// [h·headDim, (h + 1)·headDim) of every row. Outputs must not overlap inputs.</para>
/// <para>Masks: s_ij = scale·q_i·k_j is masked (-∞) when <c>causal</c> and j &gt; i (the top-left aligned
/// square-subsequent mask of nn.Transformer, also when tq ≠ tk), or when <c>keyTokens</c> is given and
/// keyTokens[j] == padToken (key_padding_mask). A query row whose keys are all masked outputs zeros and gets
/// lse = -∞ (PyTorch produces NaN there); its backward contributes nothing.</para>
/// <para>Dropout on the attention weights (training): P̃_ij = P_ij·keep_ij/(1 - p) with keep_ij =
/// <see cref="DropoutMask.Keep(ulong, long, float)"/>(seed, (h·tq + i)·tk + j, p). The softmax sum and lse are
/// taken before dropout, as in PyTorch.</para>
/// </remarks>
public static unsafe partial class AttentionKernel
{
    /// <summary>Keys per block of scores (the stack buffer of one block).</summary>
    public const int KeyBlock = 64;

    /// <summary>Largest supported head dimension (the forward's per-row accumulator lives on the stack).</summary>
    public const int MaxHeadDim = 1024;

    /// <summary>
    /// o = softmax(mask(scale·q kᵀ)) v per head (with dropout on the weights when <paramref name="dropoutP"/> &gt; 0);
    /// when <paramref name="lse"/> is not null, lse[h·tq + i] = log Σ_j exp(s_ij) over the unmasked keys.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, int tq, int tk, int heads, int headDim,
        float scale, bool causal, int* keyTokens, int padToken, float* lse, float dropoutP, ulong dropoutSeed)
    {
        CheckHeadDim(headDim);
        switch (tk > 0 ? BlockedLanes(headDim) : 0) // no keys: the general path writes the zeros
        {
            case 16:
                ForwardBlocked<Lanes512>(q, ldq, k, ldk, v, ldv, o, ldo, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, lse, dropoutP, dropoutSeed);
                return;
            case 8:
                ForwardBlocked<Lanes256>(q, ldq, k, ldk, v, ldv, o, ldo, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, lse, dropoutP, dropoutSeed);
                return;
            case 4:
                ForwardBlocked<Lanes128>(q, ldq, k, ldk, v, ldv, o, ldo, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, lse, dropoutP, dropoutSeed);
                return;
        }

        float* scores = stackalloc float[KeyBlock];
        float* acc = stackalloc float[headDim];
        var drop = new DropoutDraw(dropoutP, dropoutSeed);
        for (int h = 0; h < heads; h++)
        {
            int col = h * headDim;
            for (int i = 0; i < tq; i++)
            {
                float* qi = q + (nint)i * ldq + col;
                new Span<float>(acc, headDim).Clear();
                float max = float.NegativeInfinity, sum = 0f;
                int end = causal ? Math.Min(tk, i + 1) : tk;
                long rowIndex = ((long)h * tq + i) * tk;
                for (int j0 = 0; j0 < end; j0 += KeyBlock)
                {
                    int count = Math.Min(KeyBlock, end - j0);
                    float blockMax = Scores(qi, k + col, ldk, j0, count, headDim, scale, keyTokens, padToken, scores);
                    if (blockMax == float.NegativeInfinity)
                    {
                        continue;
                    }

                    if (blockMax > max)
                    {
                        float correction = MathF.Exp(max - blockMax); // 0 while max is still -inf
                        sum *= correction;
                        VectorOps.Scale(acc, correction, headDim);
                        max = blockMax;
                    }

                    sum += ExpShifted(scores, max, count);
                    for (int jj = 0; jj < count; jj++)
                    {
                        float p = scores[jj];
                        if (p == 0f)
                        {
                            continue;
                        }

                        int j = j0 + jj;
                        if (drop.On)
                        {
                            if (!DropoutMask.Keep(drop.Seed32, (uint)(rowIndex + j), drop.Threshold))
                            {
                                continue;
                            }

                            p *= drop.KeepScale;
                        }

                        VectorOps.Axpy(p, v + (nint)j * ldv + col, acc, headDim);
                    }
                }

                float* oi = o + (nint)i * ldo + col;
                if (sum == 0f)
                {
                    new Span<float>(oi, headDim).Clear();
                    if (lse != null)
                    {
                        lse[(nint)h * tq + i] = float.NegativeInfinity;
                    }

                    continue;
                }

                new ReadOnlySpan<float>(acc, headDim).CopyTo(new Span<float>(oi, headDim));
                VectorOps.Scale(oi, 1f / sum, headDim);
                if (lse != null)
                {
                    lse[(nint)h * tq + i] = max + MathF.Log(sum);
                }
            }
        }
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/> (same masks, scale and dropout seed) from q, k, v, its output o, the
    /// output gradient dO and the saved lse: with D_i = dO_i·O_i, P_ij = exp(s_ij - lse_i),
    /// dP_ij = keep_ij·(dO_i·V_j)/(1 - p) and dS_ij = P_ij (dP_ij - D_i):
    /// dV_j += Σ_i P̃_ij dO_i, dQ_i += scale Σ_j dS_ij K_j, dK_j += scale Σ_i dS_ij Q_i.
    /// With <paramref name="accumulate"/> false the head columns of the first tq rows of dq and tk rows of dk, dv
    /// are zeroed first. dq, dk and dv must be distinct buffers that overlap no input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, float* dO, int lddo, float* lse,
        float* dq, int lddq, float* dk, int lddk, float* dv, int lddv, int tq, int tk, int heads, int headDim,
        float scale, bool causal, int* keyTokens, int padToken, float dropoutP, ulong dropoutSeed, bool accumulate)
    {
        CheckHeadDim(headDim);
        int width = heads * headDim;
        if (!accumulate)
        {
            ZeroColumns(dq, lddq, tq, width);
            ZeroColumns(dk, lddk, tk, width);
            ZeroColumns(dv, lddv, tk, width);
        }

        switch (tk > 0 ? BlockedLanes(headDim) : 0) // no keys: the general path writes the zeros
        {
            case 16:
                BackwardBlocked<Lanes512>(q, ldq, k, ldk, v, ldv, o, ldo, dO, lddo, lse, dq, lddq, dk, lddk, dv, lddv, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, dropoutP, dropoutSeed);
                return;
            case 8:
                BackwardBlocked<Lanes256>(q, ldq, k, ldk, v, ldv, o, ldo, dO, lddo, lse, dq, lddq, dk, lddk, dv, lddv, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, dropoutP, dropoutSeed);
                return;
            case 4:
                BackwardBlocked<Lanes128>(q, ldq, k, ldk, v, ldv, o, ldo, dO, lddo, lse, dq, lddq, dk, lddk, dv, lddv, tq, tk, heads, headDim, scale, causal, keyTokens, padToken, dropoutP, dropoutSeed);
                return;
        }

        float* probs = stackalloc float[KeyBlock];
        var drop = new DropoutDraw(dropoutP, dropoutSeed);
        for (int h = 0; h < heads; h++)
        {
            int col = h * headDim;
            for (int i = 0; i < tq; i++)
            {
                float rowLse = lse[(nint)h * tq + i];
                if (rowLse == float.NegativeInfinity)
                {
                    continue; // every key masked: the output was a constant zero
                }

                float* qi = q + (nint)i * ldq + col;
                float* doi = dO + (nint)i * lddo + col;
                float* dqi = dq + (nint)i * lddq + col;
                float di = VectorOps.Dot(doi, o + (nint)i * ldo + col, headDim);
                int end = causal ? Math.Min(tk, i + 1) : tk;
                long rowIndex = ((long)h * tq + i) * tk;
                for (int j0 = 0; j0 < end; j0 += KeyBlock)
                {
                    int count = Math.Min(KeyBlock, end - j0);
                    float blockMax = Scores(qi, k + col, ldk, j0, count, headDim, scale, keyTokens, padToken, probs);
                    if (blockMax == float.NegativeInfinity)
                    {
                        continue;
                    }

                    ExpShifted(probs, rowLse, count);
                    for (int jj = 0; jj < count; jj++)
                    {
                        float p = probs[jj];
                        if (p == 0f)
                        {
                            continue; // masked (or underflowed): every term below is zero
                        }

                        int j = j0 + jj;
                        float dp = 0f;
                        if (!drop.On || DropoutMask.Keep(drop.Seed32, (uint)(rowIndex + j), drop.Threshold))
                        {
                            float pk = drop.On ? p * drop.KeepScale : p;
                            VectorOps.Axpy(pk, doi, dv + (nint)j * lddv + col, headDim);
                            dp = VectorOps.Dot(doi, v + (nint)j * ldv + col, headDim);
                            if (drop.On)
                            {
                                dp *= drop.KeepScale;
                            }
                        }

                        float ds = scale * p * (dp - di);
                        VectorOps.Axpy(ds, k + (nint)j * ldk + col, dqi, headDim);
                        VectorOps.Axpy(ds, qi, dk + (nint)j * lddk + col, headDim);
                    }
                }
            }
        }
    }

    /// <summary>
    /// scores[jj] = scale·q_i·k_(j0 + jj), or -∞ for a padding key; returns the block's maximum.
    /// <paramref name="k"/> already points at the head's first column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scores(
        float* qi, float* k, int ldk, int j0, int count, int headDim, float scale, int* keyTokens, int padToken, float* scores)
    {
        float max = float.NegativeInfinity;
        for (int jj = 0; jj < count; jj++)
        {
            int j = j0 + jj;
            float s = keyTokens != null && keyTokens[j] == padToken
                ? float.NegativeInfinity
                : scale * VectorOps.Dot(qi, k + (nint)j * ldk, headDim);
            scores[jj] = s;
            max = MathF.Max(max, s);
        }

        return max;
    }

    /// <summary>x[j] = exp(x[j] - shift), with -∞ mapped to exactly 0; returns the sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpShifted(float* x, float shift, int n)
    {
        int j = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> s = Vector512.Load(x + j);
                Vector512<float> e = Vector512.ConditionalSelect(
                    Vector512.Equals(s, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero,
                    VectorMath.Exp(s - Vector512.Create(shift)));
                e.Store(x + j);
                acc += e;
            }

            sum += Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> s = Vector256.Load(x + j);
                Vector256<float> e = Vector256.ConditionalSelect(
                    Vector256.Equals(s, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero,
                    VectorMath.Exp(s - Vector256.Create(shift)));
                e.Store(x + j);
                acc += e;
            }

            sum += Vector256.Sum(acc);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> acc = Vector128<float>.Zero;
            for (; j + 4 <= n; j += 4)
            {
                Vector128<float> s = Vector128.Load(x + j);
                Vector128<float> e = Vector128.ConditionalSelect(
                    Vector128.Equals(s, Vector128.Create(float.NegativeInfinity)), Vector128<float>.Zero,
                    VectorMath.Exp(s - Vector128.Create(shift)));
                e.Store(x + j);
                acc += e;
            }

            sum += Vector128.Sum(acc);
        }

        for (; j < n; j++)
        {
            float e = x[j] == float.NegativeInfinity ? 0f : MathF.Exp(x[j] - shift);
            x[j] = e;
            sum += e;
        }

        return sum;
    }

    private static void ZeroColumns(float* x, int ld, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            new Span<float>(x + (nint)r * ld, width).Clear();
        }
    }

    private static void CheckHeadDim(int headDim)
    {
        if ((uint)(headDim - 1) >= MaxHeadDim)
        {
            ThrowHeadDim(headDim);
        }
    }

    private static void ThrowHeadDim(int headDim) =>
        throw new ArgumentOutOfRangeException(nameof(headDim), headDim, $"The head dimension must lie in [1, {MaxHeadDim}].");
}
