using Xunit;
using GraphCompiler.Tests.Reference;
using R = GraphCompiler.Tests.Reference.ScalarReference;

namespace GraphCompiler.Tests.Models;

/// <summary>
/// Whole generated models against the plain scalar reference, on whichever vector width this process
/// runs (CI repeats the suite with 512-bit, 256-bit, 128-bit and scalar code).
/// </summary>
public class ModelNumericsTests
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    private static float[] P(ParameterSet p, string name) => p.Read(name).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void SeedCnn_matches_reference(int batch)
    {
        var model = new SeedCnn(maxBatch: 8, seed: 3);
        float[] x = TestData.Random(batch * SeedCnn.InputSize, seed: 11);
        var y = new float[batch * SeedCnn.OutputSize];
        model.Forward(x, y);

        ParameterSet p = model.Parameters;
        float[] h = R.Conv2d(x, batch, 1, 28, 28, P(p, "conv1.weight"), 32, 3, P(p, "conv1.bias"), padding: 1);
        h = R.MaxPool2d(R.Relu(h), batch, 32, 28, 28, 2);
        h = R.Conv2d(h, batch, 32, 14, 14, P(p, "conv2.weight"), 64, 3, P(p, "conv2.bias"), padding: 1);
        h = R.MaxPool2d(R.Relu(h), batch, 64, 14, 14, 2);
        h = R.Relu(R.Linear(h, batch, 3136, P(p, "fc1.weight"), 128, P(p, "fc1.bias")));
        float[] expected = R.Linear(h, batch, 128, P(p, "fc2.weight"), 10, P(p, "fc2.bias"));
        Close.Assert(expected, y, Rtol, Atol, "SeedCnn");
    }

    [Fact]
    public void StridedDilatedConv_matches_reference()
    {
        const int batch = 3;
        var model = new StridedDilatedConv(maxBatch: batch, seed: 5);
        float[] x = TestData.Random(batch * StridedDilatedConv.InputSize, seed: 12);
        var y = new float[batch * StridedDilatedConv.OutputSize];
        model.Forward(x, y);

        ParameterSet p = model.Parameters;
        float[] h = R.Conv2d(x, batch, 3, 11, 9, P(p, "conv.weight"), 5, 3, P(p, "conv.bias"), stride: 2, padding: 2, dilation: 2);
        h = R.Linear(R.Tanh(h), batch, 150, P(p, "fc.weight"), 7, P(p, "fc.bias"));
        Close.Assert(R.LogSoftmax(h, batch, 7), y, Rtol, Atol, "StridedDilatedConv");
    }

    [Fact]
    public void PoolingMix_matches_reference()
    {
        const int batch = 2;
        var model = new PoolingMix(maxBatch: 4, seed: 6);
        float[] x = TestData.Random(batch * PoolingMix.InputSize, seed: 13);
        var y = new float[batch * PoolingMix.OutputSize];
        model.Forward(x, y);

        float[] h = R.Sigmoid(R.Conv2d(x, batch, 2, 9, 10, P(model.Parameters, "conv.weight"), 20, 1));
        h = R.AvgPool2d(h, batch, 20, 9, 10, 3, 2, 1);
        Close.Assert(R.MaxPool2d(h, batch, 20, 5, 5, 3, 2, 1), y, Rtol, Atol, "PoolingMix");
    }

    [Fact]
    public void FusedPools_matches_reference()
    {
        const int batch = 2;
        var model = new FusedPools(maxBatch: batch, seed: 7);
        float[] x = TestData.Random(batch * FusedPools.InputSize, seed: 14);
        var y = new float[batch * FusedPools.OutputSize];
        model.Forward(x, y);

        ParameterSet p = model.Parameters;
        float[] h = R.Tanh(R.Conv2d(x, batch, 4, 8, 8, P(p, "conv1.weight"), 24, 3, P(p, "conv1.bias"), padding: 1));
        h = R.AvgPool2d(h, batch, 24, 8, 8, 2);
        h = R.Relu(R.Conv2d(h, batch, 24, 4, 4, P(p, "conv2.weight"), 16, 2, P(p, "conv2.bias")));
        Close.Assert(R.MaxPool2d(h, batch, 16, 3, 3, 3), y, Rtol, Atol, "FusedPools");
    }

    [Fact]
    public void ElementwiseAndReshape_matches_reference()
    {
        const int batch = 3;
        var model = new ElementwiseAndReshape(maxBatch: batch, seed: 8);
        float[] x = TestData.Random(batch * ElementwiseAndReshape.InputSize, seed: 15);
        var y = new float[batch * ElementwiseAndReshape.OutputSize];
        model.Forward(x, y);

        ParameterSet p = model.Parameters;
        float[] a = R.Linear(x, batch, 20, P(p, "a.weight"), 48, P(p, "a.bias"));
        float[] b = R.Linear(x, batch, 20, P(p, "b.weight"), 48, P(p, "b.bias"));
        float[] s = R.Add(a, b);
        float[] q = R.Mul(R.Sigmoid(a), s);
        float[] h = R.Relu(R.Conv2d(q, batch, 3, 4, 4, P(p, "conv.weight"), 4, 3, P(p, "conv.bias"), padding: 1));
        float[] logits = R.Linear(h, batch, 64, P(p, "head.weight"), 6);
        Close.Assert(R.Softmax(logits, batch, 6), y, Rtol, Atol, "ElementwiseAndReshape");
    }
}
