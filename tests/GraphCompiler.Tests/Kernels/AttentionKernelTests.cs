using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;
using static GraphCompiler.Tests.Kernels.KernelReference;

namespace GraphCompiler.Tests.Kernels;

/// <summary>
/// The fused attention against a plain double-precision softmax(q kᵀ) v: self- and cross-attention (tq ≠ tk),
/// more keys than one block, causal and padding masks alone and together (with a fully masked row), dropout, and
/// q/k/v as column slices of one packed [t, 3E] buffer. Backward is checked by finite differences of the
/// reference, with the same masks and dropout seed.
/// </summary>
public unsafe class AttentionKernelTests
{
    private const int Pad = 0;

    /// <summary>tq, tk, heads, headDim, causal, padded keys, dropout p.</summary>
    public static TheoryData<int, int, int, int, bool, bool, float> Cases => new()
    {
        { 1, 1, 1, 1, false, false, 0f },
        { 5, 7, 2, 3, false, false, 0f },
        { 12, 12, 4, 16, false, false, 0f },
        { 10, 12, 4, 16, false, true, 0f },   // cross-attention over a padded source
        { 12, 12, 4, 16, true, false, 0f },
        { 9, 9, 3, 5, true, true, 0f },       // both masks; row 0 sees only a padded key: fully masked
        { 7, 5, 2, 17, true, false, 0f },     // causal with tq > tk
        { 20, 70, 2, 17, false, true, 0f },   // more keys than one block
        { 66, 66, 1, 8, true, false, 0f },
        { 12, 12, 4, 16, false, false, 0.25f },
        { 9, 11, 2, 5, true, true, 0.5f },
        { 9, 9, 3, 16, true, true, 0.5f },     // heads of 16 (the blocked path): both masks, a fully masked row, dropout
        { 20, 64, 2, 16, false, true, 0.25f }, // heads of 16, exactly one block of 64 keys
        { 6, 65, 1, 16, false, false, 0f },    // one key more: a second block of one key
        { 17, 20, 2, 16, true, true, 0.1f },   // heads of 16: rows past one chunk of 16 and past a block of 4, keys past one vector
        { 38, 7, 1, 16, true, false, 0f },     // heads of 16, causal with tq > tk: three chunks, the last one partial
        { 12, 12, 2, 32, true, true, 0.1f },   // heads of 32 (two vectors per head row on the 512-bit path)
        { 17, 9, 1, 48, true, false, 0.2f },   // heads of 48
        { 10, 20, 2, 64, false, true, 0f },    // heads of 64, cross-attention over a padded source
        { 6, 18, 1, 128, false, true, 0f },    // the largest head the blocked path takes
        { 5, 100, 1, 16, false, true, 0.2f },  // blocked path, two key blocks (online softmax across them), padding, dropout
        { 9, 80, 1, 16, true, true, 0.1f },    // causal, tq < tk: the second key block is in every row's future
        { 80, 80, 1, 16, true, false, 0f },    // causal over two key blocks: rows past 64 see both
        { 20, 130, 2, 32, false, true, 0.25f },// three key blocks, the last one partial
        { 9, 0, 2, 16, false, false, 0f },     // no keys at all: zeros, lse -inf
        { 6, 10, 2, 24, true, false, 0f },     // heads of 24: the 256-bit blocked path on AVX-512 machines too
    };

    /// <summary>The cases small enough for finite differences (their cost is cubic), plus a two-block one.</summary>
    public static TheoryData<int, int, int, int, bool, bool, float> BackwardCases
    {
        get
        {
            var data = new TheoryData<int, int, int, int, bool, bool, float>();
            foreach (object[] row in Cases)
            {
                if ((int)row[0] * (int)row[1] * (int)row[2] * (int)row[3] <= 20_000)
                    data.Add((int)row[0], (int)row[1], (int)row[2], (int)row[3], (bool)row[4], (bool)row[5], (float)row[6]);
            }

            data.Add(3, 67, 1, 2, false, true, 0.2f);
            return data;
        }
    }

    private sealed class Setup
    {
        public int Tq, Tk, Heads, HeadDim, E, Ld;
        public float[] Q = [], K = [], V = [], DO = [];
        public int[]? Tokens;
        public bool Causal;
        public float P;
        public ulong Seed = 0x1234_5678_9ABC_DEF0UL;
        public float Scale => 1f / MathF.Sqrt(HeadDim);
    }

    /// <summary>q, k, v in separate buffers with row stride E + 3 (self-attention uses the packed case below).</summary>
    private static Setup Make(int tq, int tk, int heads, int headDim, bool causal, bool padded, float p)
    {
        int e = heads * headDim;
        var s = new Setup { Tq = tq, Tk = tk, Heads = heads, HeadDim = headDim, E = e, Ld = e + 3, Causal = causal, P = p };
        s.Q = TestData.Random(tq * s.Ld, 1, 1.5f);
        s.K = TestData.Random(tk * s.Ld, 2, 1.5f);
        s.V = TestData.Random(tk * s.Ld, 3);
        s.DO = TestData.Random(tq * e, 4);
        if (padded)
        {
            s.Tokens = new int[tk];
            for (int j = 0; j < tk; j++) s.Tokens[j] = j == 0 || j % 4 == 3 ? Pad : 5 + j; // key 0 and every 4th padded
        }

        return s;
    }

    private static (float[] O, float[] Lse) RunForward(Setup s)
    {
        var o = new float[s.Tq * s.E];
        var lse = new float[s.Heads * s.Tq];
        Array.Fill(o, float.NaN); // every output must be written
        Array.Fill(lse, float.NaN);
        fixed (float* q = s.Q, k = s.K, v = s.V, po = o, pl = lse)
        fixed (int* tokens = s.Tokens)
        {
            AttentionKernel.Forward(q, s.Ld, k, s.Ld, v, s.Ld, po, s.E, s.Tq, s.Tk, s.Heads, s.HeadDim, s.Scale, s.Causal,
                tokens, Pad, pl, s.P, s.Seed);
        }

        return (o, lse);
    }

    private static double[] ReferenceForward(Setup s, double[] q, double[] k, double[] v, out double[] lse) =>
        Attention(q, s.Ld, k, s.Ld, v, s.Ld, s.Tq, s.Tk, s.Heads, s.HeadDim, s.Scale, s.Causal, s.Tokens, Pad, s.P, s.Seed, out lse);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_matches_double_reference(int tq, int tk, int heads, int headDim, bool causal, bool padded, float p)
    {
        Setup s = Make(tq, tk, heads, headDim, causal, padded, p);
        (float[] o, float[] lse) = RunForward(s);
        double[] expected = ReferenceForward(s, ToDouble(s.Q), ToDouble(s.K), ToDouble(s.V), out double[] expectedLse);
        Close.Assert(ToFloat(expected), o, 1e-5, 2e-6, "o");
        Close.Assert(ToFloat(expectedLse), lse, 1e-5, 1e-5, "lse");
    }

    [Fact]
    public void A_row_whose_keys_are_all_masked_outputs_zeros_and_minus_infinite_lse()
    {
        Setup s = Make(4, 6, 2, 8, causal: true, padded: true, p: 0f); // key 0 padded: query 0 sees nothing
        (float[] o, float[] lse) = RunForward(s);
        for (int c = 0; c < s.E; c++) Assert.Equal(0f, o[c]);
        Assert.Equal(float.NegativeInfinity, lse[0]);
        Assert.Equal(float.NegativeInfinity, lse[s.Tq]);
        Assert.True(float.IsFinite(lse[1]));
        Assert.Contains(o.AsSpan(s.E).ToArray(), x => x != 0f);
    }

    [Fact]
    public void Padded_keys_do_not_influence_the_output()
    {
        Setup s = Make(6, 8, 2, 4, causal: false, padded: true, p: 0f);
        (float[] before, _) = RunForward(s);
        for (int j = 0; j < s.Tk; j++)
        {
            if (s.Tokens![j] != Pad) continue;
            for (int c = 0; c < s.E; c++)
            {
                s.K[j * s.Ld + c] += 100f;
                s.V[j * s.Ld + c] -= 50f;
            }
        }

        (float[] after, _) = RunForward(s);
        Assert.Equal(before, after);
    }

    [Fact]
    public void Packed_qkv_self_attention_matches_separate_buffers()
    {
        const int t = 11, heads = 4, headDim = 16, e = heads * headDim;
        float[] qkv = TestData.Random(t * 3 * e, 7);
        Setup s = Make(t, t, heads, headDim, causal: true, padded: false, p: 0.1f);
        s.Ld = 3 * e;
        s.Q = qkv;
        s.K = qkv.AsSpan(e).ToArray();
        s.V = qkv.AsSpan(2 * e).ToArray();
        (float[] separate, _) = RunForward(s);
        var o = new float[t * e];
        fixed (float* p = qkv, po = o)
        {
            AttentionKernel.Forward(p, 3 * e, p + e, 3 * e, p + 2 * e, 3 * e, po, e, t, t, heads, headDim, s.Scale, true,
                null, Pad, null, 0.1f, s.Seed);
        }

        Assert.Equal(separate, o);
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward_matches_finite_differences(int tq, int tk, int heads, int headDim, bool causal, bool padded, float p)
    {
        Setup s = Make(tq, tk, heads, headDim, causal, padded, p);
        (float[] o, float[] lse) = RunForward(s);
        foreach (bool accumulate in new[] { false, true })
        {
            int ldg = s.E + 1;
            float[] dq = TestData.Random(tq * ldg, 11), dk = TestData.Random(tk * ldg, 12), dv = TestData.Random(tk * ldg, 13);
            float[] dqStart = (float[])dq.Clone(), dkStart = (float[])dk.Clone(), dvStart = (float[])dv.Clone();
            fixed (float* q = s.Q, k = s.K, v = s.V, po = o, pl = lse, pdo = s.DO, pdq = dq, pdk = dk, pdv = dv)
            fixed (int* tokens = s.Tokens)
            {
                AttentionKernel.Backward(q, s.Ld, k, s.Ld, v, s.Ld, po, s.E, pdo, s.E, pl, pdq, ldg, pdk, ldg, pdv, ldg,
                    tq, tk, heads, headDim, s.Scale, causal, tokens, Pad, p, s.Seed, accumulate);
            }

            double[] qd = ToDouble(s.Q), kd = ToDouble(s.K), vd = ToDouble(s.V);
            double Loss() => Project(ReferenceForward(s, qd, kd, vd, out _), s.DO);
            string what = $"tq {tq} tk {tk} causal {causal} padded {padded} p {p} acc {accumulate}";
            Check(qd, tq, dq, dqStart, "dq");
            Check(kd, tk, dk, dkStart, "dk");
            Check(vd, tk, dv, dvStart, "dv");

            void Check(double[] input, int rows, float[] grad, float[] start, string name)
            {
                var expected = new float[rows * ldg];
                var actual = new float[rows * ldg];
                for (int r = 0; r < rows; r++)
                for (int c = 0; c < ldg; c++)
                {
                    actual[r * ldg + c] = grad[r * ldg + c];
                    if (c == s.E)
                    {
                        expected[r * ldg + c] = start[r * ldg + c]; // the column past the heads is untouched
                        continue;
                    }

                    expected[r * ldg + c] = (float)(FiniteDifference.Central(input, r * s.Ld + c, Loss) + (accumulate ? start[r * ldg + c] : 0));
                }

                Close.Assert(expected, actual, 1e-4, 1e-5, $"{what} {name}");
            }
        }
    }

    [Fact]
    public void Backward_with_dropout_differs_from_backward_without()
    {
        // Guards the dropout test above against a mask that is silently ignored on both sides.
        Setup s = Make(6, 6, 2, 4, causal: false, padded: false, p: 0.5f);
        double[] withDropout = ReferenceForward(s, ToDouble(s.Q), ToDouble(s.K), ToDouble(s.V), out _);
        s.P = 0f;
        double[] without = ReferenceForward(s, ToDouble(s.Q), ToDouble(s.K), ToDouble(s.V), out _);
        Assert.NotEqual(withDropout, without);
    }
}
