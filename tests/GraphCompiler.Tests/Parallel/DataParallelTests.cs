using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Parallel;

public class DataParallelTests
{
    private static (float[] Output, float[] Gradients) Step(int workers, int batch, float[] x, float[] dy, int seed)
    {
        var parameters = new SeedCnn(seed: seed).Parameters;
        using var parallel = new DataParallel<SeedCnn>(parameters, (p, slice) => new SeedCnn(p, slice), maxBatch: batch, workers: workers);
        parallel.Training = true;
        var y = new float[batch * SeedCnn.OutputSize];
        parallel.Forward(x, y);
        parallel.Backward(dy);
        return (y, parallel.Gradients.Span.ToArray());
    }

    [Fact]
    public void Several_workers_match_one_up_to_the_rounding_of_the_gradient_sums()
    {
        const int batch = 7; // not a multiple of the worker count: slices of 4 and 3
        float[] x = TestData.Random(batch * SeedCnn.InputSize, seed: 3);
        float[] dy = TestData.Random(batch * SeedCnn.OutputSize, seed: 4);
        var one = Step(1, batch, x, dy, seed: 9);
        var two = Step(2, batch, x, dy, seed: 9);
        var three = Step(3, batch, x, dy, seed: 9);

        Assert.Equal(one.Output, two.Output); // each sample runs the same code on either thread
        Assert.Equal(one.Output, three.Output);
        Close.Assert(one.Gradients, two.Gradients, 1e-5, 1e-6, "2 workers");
        Close.Assert(one.Gradients, three.Gradients, 1e-5, 1e-6, "3 workers");
    }

    [Fact]
    public void A_worker_count_always_gives_the_same_bits()
    {
        const int batch = 6;
        float[] x = TestData.Random(batch * SeedCnn.InputSize, seed: 5);
        float[] dy = TestData.Random(batch * SeedCnn.OutputSize, seed: 6);
        var first = Step(2, batch, x, dy, seed: 2);
        var second = Step(2, batch, x, dy, seed: 2);
        Assert.Equal(first.Gradients, second.Gradients);
    }

    [Fact]
    public void Gradients_equal_the_sum_over_the_whole_batch_on_one_model()
    {
        const int batch = 4;
        float[] x = TestData.Random(batch * SeedCnn.InputSize, seed: 7);
        float[] dy = TestData.Random(batch * SeedCnn.OutputSize, seed: 8);
        var model = new SeedCnn(maxBatch: batch, seed: 11) { Training = true };
        var y = new float[batch * SeedCnn.OutputSize];
        model.Forward(x, y);
        model.Backward(dy);
        var parallel = Step(2, batch, x, dy, seed: 11);
        Close.Assert(model.Gradients.Span, parallel.Gradients, 1e-5, 1e-6, "single model vs 2 workers");
    }

    [Fact]
    public void A_call_allocates_nothing_after_warm_up()
    {
        const int batch = 4;
        var parameters = new SeedCnn(seed: 1).Parameters;
        using var parallel = new DataParallel<SeedCnn>(parameters, (p, slice) => new SeedCnn(p, slice), maxBatch: batch, workers: 2);
        parallel.Training = true;
        float[] x = TestData.Random(batch * SeedCnn.InputSize, seed: 1);
        var y = new float[batch * SeedCnn.OutputSize];
        var dy = new float[batch * SeedCnn.OutputSize];
        Assert.Equal(0, Allocations.SteadyState(() =>
        {
            parallel.Forward(x, y);
            parallel.Backward(dy);
        }));
    }
}
