using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Models;

/// <summary>
/// Run-time behaviour of the recurrent models that numerics tests do not show: nothing is allocated per
/// call, a sample's result does not depend on the batch around it (every sample tile and tail path
/// agrees), and repeated calls give the same bits.
/// </summary>
public class RecurrentRuntimeTests
{
    public static TheoryData<string> Models => new()
    {
        nameof(LstmClassifier), nameof(LstmInitialStates), nameof(GruClassifier), nameof(GruInitialState), nameof(SeedRnn), nameof(SeedGru),
        nameof(LstmStackInitialStates), nameof(GruStackNoBias), nameof(LstmWideOneLayer),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_backward_allocate_nothing(string name)
    {
        const int batch = 7;
        ICompiledModel model = RecurrentModels.Create(name, batch, seed: 3);
        float[] x = Reference.TestData.Random(batch * model.InputLength, seed: 5);
        float[] y = new float[batch * model.OutputLength], dy = Reference.TestData.Random(y.Length, seed: 6), dx = new float[x.Length];
        long allocated = Allocations.SteadyState(() =>
        {
            model.Training = false;
            model.Forward(x, y);
            model.Forward(x.AsSpan(0, model.InputLength), y.AsSpan(0, model.OutputLength)); // batch 1 has its own step loop
            model.Training = true;
            model.Forward(x, y);
            model.Backward(dy, dx);
            model.Backward(dy);
        }, warmup: 35);

        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// Every model at two batch sizes that together cross every sample tile: on 512-bit vectors 15 = 6 + 6 + 2 + 1
    /// and 17 = 6 + 6 + 4 + 1 (the blocks of 6, the remainder blocks of 4 and 2 and a single sample, forward and
    /// backward), on narrower ones blocks of 2 and a single sample; and the weight-gradient blocks.
    /// </summary>
    public static TheoryData<string, int> ModelsAndBatches()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Models)
        {
            data.Add(name, 15);
            data.Add(name, 17);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModelsAndBatches))]
    public void A_sample_gives_the_same_output_and_gradients_alone_and_in_a_batch(string name, int batch)
    {
        ICompiledModel many = RecurrentModels.Create(name, batch, seed: 8);
        ICompiledModel one = RecurrentModels.Create(name, 1, seed: 8);
        float[] x = Reference.TestData.Random(batch * many.InputLength, seed: 9);
        float[] dy = Reference.TestData.Random(batch * many.OutputLength, seed: 10);
        float[] y = new float[dy.Length], dx = new float[x.Length];
        many.Training = one.Training = true;
        many.Forward(x, y);
        many.Backward(dy, dx);
        var summed = new double[many.Gradients.Length];
        for (int s = 0; s < batch; s++)
        {
            float[] ys = new float[one.OutputLength], dxs = new float[one.InputLength];
            one.Forward(x.AsSpan(s * one.InputLength, one.InputLength), ys);
            one.Backward(dy.AsSpan(s * one.OutputLength, one.OutputLength), dxs);
            for (int i = 0; i < ys.Length; i++)
            {
                Assert.Equal(ys[i], y[s * one.OutputLength + i], 5e-6f);
            }

            for (int i = 0; i < dxs.Length; i++)
            {
                Assert.Equal(dxs[i], dx[s * one.InputLength + i], 5e-6f);
            }

            ReadOnlySpan<float> g = one.Gradients.Span;
            for (int i = 0; i < summed.Length; i++)
            {
                summed[i] += g[i];
            }
        }

        ReadOnlySpan<float> batched = many.Gradients.Span;
        double scale = summed.Max(Math.Abs) + 1e-6;
        for (int i = 0; i < summed.Length; i++)
        {
            Assert.True(Math.Abs(batched[i] - summed[i]) <= 1e-5 * scale, $"gradient {i}: batched {batched[i]}, per-sample sum {summed[i]}");
        }
    }

    [Fact]
    public void Repeated_calls_give_identical_bits()
    {
        var model = new SeedRnn(maxBatch: 3, seed: 1);
        float[] x = Reference.TestData.Random(3 * SeedRnn.InputSize, seed: 2);
        float[] first = new float[3 * SeedRnn.OutputSize], second = new float[first.Length];
        model.Forward(x, first);
        model.Training = true;
        model.Forward(x, second);
        Assert.Equal(first, second);
        model.Backward(second);
        float[] gradients = model.Gradients.Span.ToArray();
        model.Forward(x, second);
        model.Backward(second);
        Assert.Equal(gradients, model.Gradients.Span.ToArray());
    }
}
