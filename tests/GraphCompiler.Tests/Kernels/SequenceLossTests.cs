using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

public class SequenceLossTests
{
    private const int Pad = 0;

    [Fact]
    public void Matches_PyTorch_nll_loss_with_ignore_index()
    {
        // F.nll_loss(tensor([[-1., -2., -0.5], [-0.1, -3., -2.], [-4., -0.2, -1.]]), tensor([2, 0, 1]), ignore_index=0)
        // = (0.5 + 0.2) / 2 = 0.35: the middle row's target is the pad token.
        float[] logProbs = [-1f, -2f, -0.5f, -0.1f, -3f, -2f, -4f, -0.2f, -1f];
        var grad = new float[9];
        float loss = SequenceLoss.NegativeLogLikelihood(logProbs, [2, 0, 1], grad, Pad, out int counted);
        Assert.Equal(0.35f, loss, 1e-6f);
        Assert.Equal(2, counted);
        Assert.Equal([0f, 0f, -0.5f, 0f, 0f, 0f, 0f, -0.5f, 0f], grad);
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    public void Gradient_matches_finite_differences_and_may_replace_the_inputs(Reduction reduction)
    {
        const int rows = 7, vocab = 13;
        float[] logProbs = TestData.Random(rows * vocab, 1, 4f);
        int[] targets = [3, Pad, 12, 5, Pad, 1, 3];
        var grad = new float[logProbs.Length];
        float loss = SequenceLoss.NegativeLogLikelihood(logProbs, targets, grad, Pad, out int counted, reduction);
        Assert.Equal(5, counted);
        Assert.Equal(5, SequenceLoss.CountTargets(targets, Pad, vocab));

        double[] x = Array.ConvertAll(logProbs, v => (double)v);
        double Reference()
        {
            double s = 0;
            for (int t = 0; t < rows; t++) if (targets[t] != Pad) s -= x[t * vocab + targets[t]];
            return reduction == Reduction.Mean ? s / 5 : s;
        }

        Assert.Equal(Reference(), loss, 1e-5);
        for (int i = 0; i < x.Length; i++) Assert.Equal(FiniteDifference.Central(x, i, Reference), grad[i], 1e-6);

        float[] inPlace = (float[])logProbs.Clone();
        float again = SequenceLoss.NegativeLogLikelihood(inPlace, targets, inPlace, Pad, out _, reduction);
        Assert.Equal(loss, again);
        Assert.Equal(grad, inPlace);
    }

    [Fact]
    public void All_ignored_gives_zero_loss_and_gradient()
    {
        float[] logProbs = [-1f, -2f, -3f, -4f];
        var grad = new float[] { 9f, 9f, 9f, 9f };
        Assert.Equal(0f, SequenceLoss.NegativeLogLikelihood(logProbs, [Pad, Pad], grad, Pad, out int counted));
        Assert.Equal(0, counted);
        Assert.All(grad, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Bad_arguments_throw_before_anything_is_written()
    {
        float[] logProbs = [-1f, -2f, -3f, -4f, -5f, -6f];
        var grad = new float[] { 7f, 7f, 7f, 7f, 7f, 7f };
        var e1 = Assert.Throws<ArgumentException>(() => SequenceLoss.NegativeLogLikelihood(logProbs, [1, 3], grad, Pad, out _));
        Assert.Contains("outside [0, 3)", e1.Message);
        Assert.Throws<ArgumentException>(() => SequenceLoss.NegativeLogLikelihood(logProbs, [1, -1], grad, Pad, out _));
        Assert.All(grad, g => Assert.Equal(7f, g));
        Assert.Throws<ArgumentException>(() => SequenceLoss.NegativeLogLikelihood(logProbs, [1, 2], new float[5], Pad, out _));
        Assert.Throws<ArgumentException>(() => SequenceLoss.NegativeLogLikelihood(logProbs, [1, 2, 1, 2], grad, Pad, out _));
        Assert.Throws<ArgumentException>(() => SequenceLoss.NegativeLogLikelihood(logProbs.AsSpan(0, 4), [1, 2], logProbs.AsSpan(1, 4), Pad, out _));
    }
}
