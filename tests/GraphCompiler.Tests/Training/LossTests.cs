using Xunit;

namespace GraphCompiler.Tests.Training;

public class LossTests
{
    [Theory]
    [InlineData(0f, 0.40760596444438013, 0.09003057317038048, 0.2447284710547977, -0.334759044225178)]
    [InlineData(0.1f, 0.5076059644443801, 0.05669723983704714, 0.21139513772146437, -0.26809237755851134)]
    public void CrossEntropy_matches_PyTorch_values(float smoothing, double loss, double g0, double g1, double g2)
    {
        // Values of F.cross_entropy(tensor([[1., 2., 3.]]), tensor([2]), label_smoothing=s) and its gradient.
        float[] logits = [1f, 2f, 3f];
        var grad = new float[3];
        float l = Losses.CrossEntropy(logits, [2], grad, labelSmoothing: smoothing);
        Assert.Equal(loss, l, 1e-6);
        Assert.Equal(g0, grad[0], 1e-6);
        Assert.Equal(g1, grad[1], 1e-6);
        Assert.Equal(g2, grad[2], 1e-6);
    }

    [Theory]
    [InlineData(Reduction.Mean, 0f)]
    [InlineData(Reduction.Sum, 0f)]
    [InlineData(Reduction.Mean, 0.2f)]
    [InlineData(Reduction.Sum, 0.05f)]
    public void CrossEntropy_matches_reference_and_finite_differences(Reduction reduction, float smoothing)
    {
        const int batch = 6, classes = 11;
        var rng = new SeededRandom(7);
        var logits = new float[batch * classes];
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] = 3f * rng.NextNormal();
        }

        int[] labels = [3, -100, 0, 10, 5, 5]; // one ignored sample
        var grad = new float[logits.Length];
        float loss = Losses.CrossEntropy(logits, labels, grad, reduction, smoothing);

        double[] x = logits.Select(v => (double)v).ToArray();
        Assert.Equal(Reference(x), loss, 1e-5);
        for (int k = 0; k < x.Length; k++)
        {
            const double h = 1e-5;
            double saved = x[k];
            x[k] = saved + h;
            double up = Reference(x);
            x[k] = saved - h;
            double down = Reference(x);
            x[k] = saved;
            Assert.Equal((up - down) / (2 * h), grad[k], 1e-5);
        }

        Assert.All(grad.AsSpan(classes, classes).ToArray(), v => Assert.Equal(0f, v)); // the ignored row

        // PyTorch's definition: log_softmax, then (1 - s) * nll + s / C * sum(-log p), mean over counted samples.
        double Reference(double[] z)
        {
            double total = 0;
            int counted = 0;
            for (int i = 0; i < batch; i++)
            {
                if (labels[i] == -100)
                {
                    continue;
                }

                counted++;
                double lse = Math.Log(Enumerable.Range(0, classes).Sum(j => Math.Exp(z[i * classes + j])));
                double nll = lse - z[i * classes + labels[i]];
                double smooth = Enumerable.Range(0, classes).Sum(j => lse - z[i * classes + j]);
                total += (1 - smoothing) * nll + smoothing / classes * smooth;
            }

            return reduction == Reduction.Mean ? total / counted : total;
        }
    }

    [Fact]
    public void CrossEntropy_is_stable_for_huge_logits()
    {
        float[] logits = [1000f, -1000f, 0f, 990f];
        var grad = new float[4];
        float loss = Losses.CrossEntropy(logits, [1, 0], grad, Reduction.Sum, labelSmoothing: 0.1f);
        Assert.True(float.IsFinite(loss));
        // Sample 0: -log p(1) = 2000; smoothing term (1000-1000 + 1000+1000)/2 = 1000.
        // Sample 1: -log p(0) = 990 + log(1 + e^-990) - 0 = 990; smoothing term (990 + 0)/2 = 495.
        Assert.Equal(0.9 * 2000 + 0.05 * 2000 + 0.9 * 990 + 0.05 * 990, loss, 0.01);
        Assert.All(grad, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f - 0.05f, grad[0], 1e-6f);
        Assert.Equal(-(1f - 0.05f), grad[1], 1e-6f);
    }

    [Fact]
    public void CrossEntropy_gradient_may_replace_the_logits()
    {
        float[] logits = [0.5f, -1f, 2f, 0.1f, 0.3f, -0.7f];
        var separate = new float[6];
        float expected = Losses.CrossEntropy(logits, [2, 0], separate, labelSmoothing: 0.1f);
        float inPlace = Losses.CrossEntropy(logits, [2, 0], logits, labelSmoothing: 0.1f);
        Assert.Equal(expected, inPlace);
        Assert.Equal(separate, logits);
    }

    [Fact]
    public void CrossEntropy_rejects_bad_arguments_before_writing()
    {
        float[] logits = [1f, 2f, 3f, 4f];
        float[] grad = [9f, 9f, 9f, 9f];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Losses.CrossEntropy(logits, [1, 2], grad));
        Assert.Contains("sample 1", e.Message);
        Assert.Equal([9f, 9f, 9f, 9f], grad);
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, [0, 0, 0], grad));
        Assert.Throws<ArgumentException>(() => Losses.CrossEntropy(logits, [0, 0], new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.CrossEntropy(logits, [0, 0], grad, labelSmoothing: 1.5f));
    }

    [Fact]
    public void CrossEntropy_rejects_partial_overlap()
    {
        var memory = new float[7];
        var e = Assert.Throws<ArgumentException>(() =>
            Losses.CrossEntropy(memory.AsSpan(0, 6), [0, 1], memory.AsSpan(1, 6)));
        Assert.Contains("overlaps", e.Message);
    }

    [Fact]
    public void CrossEntropy_with_every_label_ignored_is_zero()
    {
        float[] grad = [5f, 5f];
        Assert.Equal(0f, Losses.CrossEntropy([1f, 2f], [-100], grad));
        Assert.Equal([0f, 0f], grad);
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    public void MeanSquaredError_value_and_gradient(Reduction reduction)
    {
        float[] p = [1f, 2f, -3f, 0.5f];
        float[] t = [0f, 2f, 1f, 1f];
        var g = new float[4];
        float loss = Losses.MeanSquaredError(p, t, g, reduction);
        double sum = 1 + 0 + 16 + 0.25;
        double scale = reduction == Reduction.Mean ? 0.25 : 1;
        Assert.Equal(sum * scale, loss, 1e-6);
        Assert.Equal([(float)(2 * scale), 0f, (float)(-8 * scale), (float)(-scale)], g);
        Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError(p, [1f], g));
    }

    [Fact]
    public void Metrics_argmax_and_accuracy()
    {
        Assert.Equal(1, Metrics.ArgMax([0f, 3f, 3f, 1f])); // first of a tie
        Assert.Equal(2, Metrics.ArgMax([0f, 3f, float.NaN, 9f]));
        Assert.Equal(-1, Metrics.ArgMax(ReadOnlySpan<float>.Empty));
        float[] logits = [0.1f, 0.9f, 0.0f, /**/ 2f, 1f, 0f, /**/ 0f, 0f, 5f, /**/ 1f, 1f, 0f];
        int[] labels = [1, 0, 1, 1];
        var predictions = new int[4];
        Metrics.ArgMax(logits, predictions);
        Assert.Equal([1, 0, 2, 0], predictions);
        Assert.Equal(2, Metrics.CountCorrect(logits, labels));
        Assert.Equal(0.5f, Metrics.Accuracy(logits, labels));
        Assert.Throws<ArgumentException>(() => Metrics.Accuracy(logits, [1, 2, 3, 4, 5]));
    }
}
