using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Models;

/// <summary>
/// The Transformer at run time: incremental decoding with the key/value cache gives what the full forward
/// gives, allocates nothing per token, greedy decoding and beam search agree with the full model's scores;
/// dropout is seeded, repeatable, absent in inference and differentiated with the forward's own mask; bad
/// tokens are rejected before anything is written.
/// </summary>
public class TransformerRuntimeTests
{
    private const int Vocabulary = 11, SourceLength = TinyTransformer.SrcLength, TargetLength = TinyTransformer.TgtLength;

    /// <summary>Sources with padding at the end of all but the first.</summary>
    private static int[] Sources(int batch, int seed)
    {
        var random = new Random(seed);
        var tokens = new int[batch * SourceLength];
        for (int n = 0; n < batch; n++)
        {
            int used = SourceLength - n % 3;
            for (int i = 0; i < used; i++)
            {
                tokens[n * SourceLength + i] = random.Next(3, Vocabulary);
            }
        }

        return tokens;
    }

    private static int[] Targets(int batch, int seed)
    {
        var random = new Random(seed);
        var tokens = new int[batch * TargetLength];
        for (int n = 0; n < batch; n++)
        {
            tokens[n * TargetLength] = 1; // start
            for (int i = 1; i < TargetLength; i++)
            {
                tokens[n * TargetLength + i] = random.Next(3, Vocabulary);
            }
        }

        return tokens;
    }

    [Fact]
    public void Each_decode_step_gives_the_full_forwards_row_for_that_position()
    {
        const int batch = 4;
        var model = new TinyTransformer(batch, seed: 3);
        int[] src = Sources(batch, 1), tgt = Targets(batch, 2);
        var full = new float[batch * TinyTransformer.OutputSize];
        model.Forward(src, tgt, full);

        model.BeginDecode(src);
        var tokens = new int[batch];
        var row = new float[batch * Vocabulary];
        for (int position = 0; position < TargetLength; position++)
        {
            for (int n = 0; n < batch; n++)
            {
                tokens[n] = tgt[n * TargetLength + position];
            }

            model.DecodeStep(position, tokens, row);
            for (int n = 0; n < batch; n++)
            {
                Close.Assert(full.AsSpan((n * TargetLength + position) * Vocabulary, Vocabulary).ToArray(), row.AsSpan(n * Vocabulary, Vocabulary).ToArray(), 1e-5, 1e-5, $"sample {n}, position {position}");
            }
        }
    }

    [Fact]
    public void Decoding_allocates_nothing_per_token_or_per_sequence()
    {
        const int batch = 8;
        var model = new TinyTransformer(batch, seed: 4);
        var decoding = new SequenceDecoding(model, startToken: 1, endToken: 2);
        int[] src = Sources(2, 5);
        var output = new int[2 * TargetLength];
        var lengths = new int[2];
        var beam = new int[TargetLength];
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            decoding.Greedy(src, output, lengths);
            decoding.BeamSearch(src.AsSpan(0, SourceLength), 3, beam, out _);
        }, warmup: 10));
    }

    [Fact]
    public void Greedy_decoding_picks_the_full_models_best_token_at_each_position()
    {
        const int batch = 3;
        var model = new TinyTransformer(batch, seed: 6);
        var decoding = new SequenceDecoding(model, startToken: 1, endToken: 2);
        int[] src = Sources(batch, 7);
        var output = new int[batch * TargetLength];
        var lengths = new int[batch];
        decoding.Greedy(src, output, lengths);

        var reference = new TinyTransformer(model.Parameters, batch);
        var full = new float[batch * TinyTransformer.OutputSize];
        for (int n = 0; n < batch; n++)
        {
            var tgt = new int[TargetLength];
            tgt[0] = 1;
            for (int position = 0; position < lengths[n]; position++)
            {
                if (position + 1 < TargetLength)
                {
                    tgt[position + 1] = output[n * TargetLength + position];
                }
            }

            var one = new float[TinyTransformer.OutputSize];
            reference.Forward(src.AsSpan(n * SourceLength, SourceLength), tgt, one);
            for (int position = 0; position < Math.Min(lengths[n] + 1, TargetLength); position++)
            {
                ReadOnlySpan<float> scores = one.AsSpan(position * Vocabulary, Vocabulary);
                int best = 0;
                for (int v = 1; v < Vocabulary; v++)
                {
                    best = scores[v] > scores[best] ? v : best;
                }

                int expected = position < lengths[n] ? output[n * TargetLength + position] : 2;
                Assert.Equal(expected, best);
            }
        }
    }

    [Fact]
    public void Beam_search_of_width_one_is_greedy_and_its_score_is_the_full_models()
    {
        var model = new TinyTransformer(8, seed: 9);
        var decoding = new SequenceDecoding(model, startToken: 1, endToken: 2);
        int[] src = Sources(1, 10);
        var greedy = new int[TargetLength];
        var lengths = new int[1];
        decoding.Greedy(src, greedy, lengths);
        // Width one follows the greedy choices, but may end earlier: an end token whose total score beats every
        // continuation's ends the search (scores only fall), while greedy continues until the end token is the best.
        var beamOne = new int[TargetLength];
        int lengthOne = decoding.BeamSearch(src, 1, beamOne, out _);
        Assert.InRange(lengthOne, 0, lengths[0]);
        Assert.Equal(greedy.AsSpan(0, lengthOne).ToArray(), beamOne.AsSpan(0, lengthOne).ToArray());

        var best = new int[TargetLength];
        int length = decoding.BeamSearch(src, 4, best, out float score);
        var tgt = new int[TargetLength];
        tgt[0] = 1;
        for (int i = 0; i + 1 < TargetLength && i < length; i++)
        {
            tgt[i + 1] = best[i];
        }

        var full = new float[TinyTransformer.OutputSize];
        new TinyTransformer(model.Parameters, 1).Forward(src, tgt, full);
        double expected = 0;
        for (int position = 0; position <= Math.Min(length, TargetLength - 1); position++)
        {
            int token = position < length ? best[position] : 2;
            expected += full[position * Vocabulary + token];
        }

        Assert.Equal(expected, score, 3);
    }

    [Fact]
    public void Training_dropout_repeats_with_the_same_seed_and_is_off_in_inference()
    {
        const int batch = 3;
        var model = new TinyTransformerDropout(batch, seed: 11);
        int[] src = Sources(batch, 12), tgt = Targets(batch, 13);
        float[] a = new float[batch * TinyTransformerDropout.OutputSize], b = new float[a.Length], c = new float[a.Length], d = new float[a.Length], e = new float[a.Length];
        model.Training = true;
        model.DropoutSeed = 42;
        model.Forward(src, tgt, a);
        model.DropoutSeed = 42;
        model.Forward(src, tgt, b);
        model.Forward(src, tgt, c); // the seed advanced: new masks
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);

        model.Training = false;
        model.Forward(src, tgt, d);
        model.Forward(src, tgt, e);
        Assert.Equal(d, e);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void Gradients_with_dropout_match_finite_differences_of_the_same_masks()
    {
        const int batch = 2;
        var model = new TinyTransformerDropout(batch, seed: 14) { Training = true };
        int[] src = Sources(batch, 15), tgt = Targets(batch, 16);
        var y = new float[batch * TinyTransformerDropout.OutputSize];
        CheckFiniteDifferences(model.Parameters, model.Gradients, y, () =>
        {
            model.DropoutSeed = 7; // the same masks at every evaluation
            model.Forward(src, tgt, y);
        }, model.Backward);
    }

    [Fact]
    public void Learned_positions_get_gradients_and_decode_like_the_full_forward()
    {
        const int batch = 3;
        var model = new TinyLearnedPositions(batch, seed: 24) { Training = true };
        int[] src = Sources(batch, 25), tgt = Targets(batch, 26);
        var y = new float[batch * TinyLearnedPositions.OutputSize];
        CheckFiniteDifferences(model.Parameters, model.Gradients, y, () => model.Forward(src, tgt, y), model.Backward);
        Assert.Contains(model.Parameters.Layout, p => p.Name == "tgt_pos.weight" && p.Shape.SequenceEqual(new[] { 8, 16 }));

        model.Training = false;
        model.Forward(src, tgt, y);
        model.BeginDecode(src);
        var tokens = new int[batch];
        var row = new float[batch * Vocabulary];
        for (int position = 0; position < TargetLength; position++)
        {
            for (int n = 0; n < batch; n++)
            {
                tokens[n] = tgt[n * TargetLength + position];
            }

            model.DecodeStep(position, tokens, row);
            for (int n = 0; n < batch; n++)
            {
                Close.Assert(y.AsSpan((n * TargetLength + position) * Vocabulary, Vocabulary).ToArray(), row.AsSpan(n * Vocabulary, Vocabulary).ToArray(), 1e-5, 1e-5, $"sample {n}, position {position}");
            }
        }
    }

    /// <summary>
    /// dL/dθ for three random entries of every parameter against central differences of L = Σ y·r, where
    /// <paramref name="forward"/> writes y and <paramref name="backward"/> takes dL/dy = r.
    /// </summary>
    private static void CheckFiniteDifferences(ParameterSet parameters, AlignedBuffer gradients, float[] y, Action forward, Action<ReadOnlySpan<float>> backward)
    {
        float[] weights = TestData.Random(y.Length, seed: 17);
        double Loss()
        {
            forward();
            double sum = 0;
            for (int i = 0; i < y.Length; i++)
            {
                sum += (double)y[i] * weights[i];
            }

            return sum;
        }

        Loss();
        backward(weights);
        float[] analytic = gradients.Span.ToArray();
        Span<float> values = parameters.Values;
        var random = new Random(18);
        int checkedCount = 0;
        foreach (ParameterInfo p in parameters.Layout)
        {
            for (int k = 0; k < 3; k++)
            {
                int i = p.Offset + random.Next(p.Length);
                float saved = values[i];
                const float h = 1e-2f;
                values[i] = saved + h;
                parameters.MarkModified();
                double plus = Loss();
                values[i] = saved - h;
                parameters.MarkModified();
                double minus = Loss();
                values[i] = saved;
                parameters.MarkModified();
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[i]) <= 2e-2 + 2e-2 * Math.Abs(numeric), $"{p.Name}[{i - p.Offset}]: analytic {analytic[i]}, numeric {numeric}");
                checkedCount++;
            }
        }

        Assert.True(checkedCount > 30);
    }

    [Fact]
    public void A_token_outside_the_vocabulary_is_rejected_before_anything_is_written()
    {
        var model = new TinyTransformer(2, seed: 19);
        int[] src = Sources(2, 20), tgt = Targets(2, 21);
        var before = new float[2 * TinyTransformer.OutputSize];
        model.Forward(src, tgt, before);
        int[] bad = (int[])tgt.Clone();
        bad[TargetLength + 3] = Vocabulary;
        var output = new float[before.Length];
        output.AsSpan().Fill(-7f);
        ArgumentException e = Assert.Throws<ArgumentException>(() => model.Forward(src, bad, output));
        Assert.Contains("token 11 at sample 1, position 3", e.Message, StringComparison.Ordinal);
        Assert.All(output, v => Assert.Equal(-7f, v));
        Assert.Throws<ArgumentException>(() => model.Forward(src, tgt.AsSpan(0, TargetLength * 2 - 1), output));
        var again = new float[before.Length];
        model.Forward(src, tgt, again);
        Assert.Equal(before, again);
    }

    [Fact]
    public void Decode_steps_must_follow_begin_decode_in_order()
    {
        var model = new TinyTransformer(2, seed: 22);
        var scores = new float[2 * Vocabulary];
        Assert.Throws<InvalidOperationException>(() => model.DecodeStep(0, new[] { 1, 1 }, scores));
        model.BeginDecode(Sources(2, 23));
        Assert.Throws<InvalidOperationException>(() => model.DecodeStep(1, new[] { 1, 1 }, scores));
        model.DecodeStep(0, new[] { 1, 1 }, scores);
        Assert.Throws<ArgumentException>(() => model.DecodeStep(1, new[] { 1 }, scores));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodeStep(TargetLength, new[] { 1, 1 }, scores));
    }
}
