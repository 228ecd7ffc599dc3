using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

// The 512-bit path of AttentionKernel for heads of 16 (one vector per row of a head) and at most 64 keys:
// per head, the keys (and values, for backward) are transposed once into [16][keys] on the stack, so a query's
// scores are 16 broadcast multiply-adds over whole vectors of keys instead of one horizontal sum per key; the
// softmax, the masks and the dropout mask are computed a vector of keys at a time. Same results as the general
// path (the same masks, the same dropout mask, the same lse), up to float rounding order.
public static unsafe partial class AttentionKernel
{
    private const int Head16 = 16;
    private const int MaxKeys16 = 64;

    /// <summary>Whether the 16-wide path applies.</summary>
    private static bool UsesHead16(int headDim, int tk) => Vector512.IsHardwareAccelerated && headDim == Head16 && tk <= MaxKeys16;

    /// <summary>t[d · 64 + j] = rows[j · ld + d] for the head's 16 columns.</summary>
    private static void Transpose16(float* rows, int ld, int count, float* t)
    {
        for (int j = 0; j < count; j++)
        {
            float* r = rows + (nint)j * ld;
            for (int d = 0; d < Head16; d++)
            {
                t[d * MaxKeys16 + j] = r[d];
            }
        }
    }

    /// <summary>The additive key mask of the call: 0 for a key that may be attended, -∞ for padding (and past tk).</summary>
    private static void KeyMask16(int tk, int* keyTokens, int padToken, float* mask)
    {
        for (int j = 0; j < MaxKeys16; j++)
        {
            mask[j] = j < tk && (keyTokens == null || keyTokens[j] != padToken) ? 0f : float.NegativeInfinity;
        }
    }

    /// <summary>s[j] = scale · q · k_j + mask[j] (and -∞ past <paramref name="end"/>), a vector of keys at a time; returns the maximum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scores16(float* qi, float* kt, float* mask, int end, int vectors, float scale, float* s)
    {
        Vector512<float> max = Vector512.Create(float.NegativeInfinity);
        for (int c = 0; c < vectors; c++)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (int d = 0; d < Head16; d++)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(qi[d]), Vector512.Load(kt + d * MaxKeys16 + c * 16), acc);
            }

            Vector512<int> index = Vector512<int>.Indices + Vector512.Create(c * 16);
            Vector512<float> score = acc * scale + Vector512.Load(mask + c * 16);
            score = Vector512.ConditionalSelect(Vector512.LessThan(index, Vector512.Create(end)).AsSingle(), score, Vector512.Create(float.NegativeInfinity));
            score.Store(s + c * 16);
            max = Vector512.Max(max, score);
        }

        float m = float.NegativeInfinity;
        for (int l = 0; l < 16; l++)
        {
            m = MathF.Max(m, max[l]);
        }

        return m;
    }

    /// <summary>p[j] = exp(s[j] - shift) with -∞ giving exactly 0; returns the sum.</summary>
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

    private static void Forward16(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, int tq, int tk, int heads,
        float scale, bool causal, int* keyTokens, int padToken, float* lse, float dropoutP, ulong dropoutSeed)
    {
        float* kt = stackalloc float[Head16 * MaxKeys16];
        float* mask = stackalloc float[MaxKeys16];
        float* s = stackalloc float[MaxKeys16];
        float* keep = stackalloc float[MaxKeys16];
        KeyMask16(tk, keyTokens, padToken, mask);
        int vectors = (tk + 15) / 16;
        bool dropout = dropoutP > 0f;
        uint threshold = DropoutMask.Threshold(dropoutP), seed32 = DropoutMask.Seed32(dropoutSeed);
        float keepScale = dropoutP >= 1f ? 0f : 1f / (1f - dropoutP);
        for (int h = 0; h < heads; h++)
        {
            int col = h * Head16;
            Transpose16(k + col, ldk, tk, kt);
            for (int i = 0; i < tq; i++)
            {
                int end = causal ? Math.Min(tk, i + 1) : tk;
                float* oi = o + (nint)i * ldo + col;
                float max = Scores16(q + (nint)i * ldq + col, kt, mask, end, vectors, scale, s);
                if (max == float.NegativeInfinity)
                {
                    Vector512<float>.Zero.Store(oi);
                    if (lse != null)
                    {
                        lse[(nint)h * tq + i] = float.NegativeInfinity;
                    }

                    continue;
                }

                float sum = Exp16(s, max, vectors);
                if (dropout)
                {
                    Keep16(seed32, (uint)(((long)h * tq + i) * tk), threshold, keepScale, vectors, keep);
                }

                Vector512<float> acc = Vector512<float>.Zero;
                for (int j = 0; j < end; j++)
                {
                    float p = dropout ? s[j] * keep[j] : s[j];
                    acc = Vector512.FusedMultiplyAdd(Vector512.Create(p), Vector512.Load(v + (nint)j * ldv + col), acc);
                }

                (acc * (1f / sum)).Store(oi);
                if (lse != null)
                {
                    lse[(nint)h * tq + i] = max + MathF.Log(sum);
                }
            }
        }
    }

    private static void Backward16(
        float* q, int ldq, float* k, int ldk, float* v, int ldv, float* o, int ldo, float* dO, int lddo, float* lse,
        float* dq, int lddq, float* dk, int lddk, float* dv, int lddv, int tq, int tk, int heads,
        float scale, bool causal, int* keyTokens, int padToken, float dropoutP, ulong dropoutSeed)
    {
        float* kt = stackalloc float[Head16 * MaxKeys16];
        float* vt = stackalloc float[Head16 * MaxKeys16];
        float* mask = stackalloc float[MaxKeys16];
        float* s = stackalloc float[MaxKeys16];
        float* dp = stackalloc float[MaxKeys16];
        float* keep = stackalloc float[MaxKeys16];
        KeyMask16(tk, keyTokens, padToken, mask);
        int vectors = (tk + 15) / 16;
        bool dropout = dropoutP > 0f;
        uint threshold = DropoutMask.Threshold(dropoutP), seed32 = DropoutMask.Seed32(dropoutSeed);
        float keepScale = dropoutP >= 1f ? 0f : 1f / (1f - dropoutP);
        for (int h = 0; h < heads; h++)
        {
            int col = h * Head16;
            Transpose16(k + col, ldk, tk, kt);
            Transpose16(v + col, ldv, tk, vt);
            for (int i = 0; i < tq; i++)
            {
                float rowLse = lse[(nint)h * tq + i];
                if (rowLse == float.NegativeInfinity)
                {
                    continue; // every key masked: the output was a constant zero
                }

                int end = causal ? Math.Min(tk, i + 1) : tk;
                float* qi = q + (nint)i * ldq + col;
                float* doi = dO + (nint)i * lddo + col;
                Vector512<float> dOi = Vector512.Load(doi);
                float di = Vector512.Sum(dOi * Vector512.Load(o + (nint)i * ldo + col));
                Scores16(qi, kt, mask, end, vectors, scale, s);
                Exp16(s, rowLse, vectors); // P
                if (dropout)
                {
                    Keep16(seed32, (uint)(((long)h * tq + i) * tk), threshold, keepScale, vectors, keep);
                }

                // dP_j = dO_i · v_j (times the kept scale), then dS = P (dP - D_i) scale, a vector of keys at a time
                for (int c = 0; c < vectors; c++)
                {
                    Vector512<float> acc = Vector512<float>.Zero;
                    for (int d = 0; d < Head16; d++)
                    {
                        acc = Vector512.FusedMultiplyAdd(Vector512.Create(doi[d]), Vector512.Load(vt + d * MaxKeys16 + c * 16), acc);
                    }

                    if (dropout)
                    {
                        acc *= Vector512.Load(keep + c * 16);
                    }

                    Vector512<float> p = Vector512.Load(s + c * 16);
                    (p * (acc - Vector512.Create(di)) * scale).Store(dp + c * 16);
                }

                Vector512<float> dQi = Vector512<float>.Zero;
                Vector512<float> qv = Vector512.Load(qi);
                for (int j = 0; j < end; j++)
                {
                    float pj = dropout ? s[j] * keep[j] : s[j];
                    float dsj = dp[j];
                    float* dvj = dv + (nint)j * lddv + col;
                    Vector512.FusedMultiplyAdd(Vector512.Create(pj), dOi, Vector512.Load(dvj)).Store(dvj);
                    dQi = Vector512.FusedMultiplyAdd(Vector512.Create(dsj), Vector512.Load(k + (nint)j * ldk + col), dQi);
                    float* dkj = dk + (nint)j * lddk + col;
                    Vector512.FusedMultiplyAdd(Vector512.Create(dsj), qv, Vector512.Load(dkj)).Store(dkj);
                }

                float* dqi = dq + (nint)i * lddq + col;
                (Vector512.Load(dqi) + dQi).Store(dqi);
            }
        }
    }
}
