using GraphCompiler.Tests.Reference;
using Xunit;
using D = GraphCompiler.Tests.Reference.DoubleReference;

namespace GraphCompiler.Tests.Models;

/// <summary>
/// The generated backward pass against central finite differences of a float64 reference forward,
/// for parameter gradients and the input gradient, on whichever vector width this process runs.
/// The loss is a fixed random projection of the output, L = sum(y * r), so dL/dy = r.
/// </summary>
public class GradientTests
{
    /// <summary>What the checks need from a generated model (the classes share no interface).</summary>
    private sealed record Trainable(
        ParameterSet Parameters, int InputSize, int OutputSize,
        Action<float[], float[]> Forward, Action<float[], float[]> Backward, Func<string, float[]> Gradient);

    private delegate double[] Reference(double[] x, Func<string, double[]> p, int batch);

    private static void Check(Trainable m, Reference reference, int batch, int seed, int samplesPerTensor = 24)
    {
        float[] x = TestData.Random(batch * m.InputSize, seed);
        float[] r = TestData.Random(batch * m.OutputSize, seed + 1);
        var y = new float[batch * m.OutputSize];
        var dx = new float[batch * m.InputSize];
        m.Forward(x, y);
        m.Backward(r, dx);

        var parameters = m.Parameters.Layout.ToDictionary(p => p.Name, p => m.Parameters.Read(p.Name).ToArray().Select(v => (double)v).ToArray());
        double[] xd = x.Select(v => (double)v).ToArray();
        double Loss() => D.Dot(reference(xd, n => parameters[n], batch), r);

        // The float forward agrees with the reference: the activations Backward read are the right ones.
        Close.Assert(reference(xd, n => parameters[n], batch).Select(v => (float)v).ToArray(), y, 1e-4, 1e-5, "forward");

        var rng = new Random(seed);
        var failures = new List<string>();
        void Compare(string what, double[] values, int index, float analytic)
        {
            double numeric = FiniteDifference.Central(values, index, Loss);
            if (Math.Abs(analytic - numeric) > 2e-4 + 1e-2 * Math.Abs(numeric))
            {
                failures.Add($"{what}[{index}]: backward {analytic:G6}, finite difference {numeric:G6}");
            }
        }

        foreach (ParameterInfo info in m.Parameters.Layout)
        {
            float[] analytic = m.Gradient(info.Name);
            double[] values = parameters[info.Name];
            IEnumerable<int> indices = info.Length <= samplesPerTensor ? Enumerable.Range(0, info.Length) : Enumerable.Range(0, samplesPerTensor).Select(_ => rng.Next(info.Length));
            foreach (int i in indices)
            {
                Compare(info.Name, values, i, analytic[i]);
            }
        }

        for (int k = 0; k < samplesPerTensor; k++)
        {
            int i = rng.Next(xd.Length);
            Compare("input", xd, i, dx[i]);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} gradient(s) disagree:\n" + string.Join("\n", failures.Take(12)));
    }

    private static float[] F(Func<string, double[]> p, string name) => p(name).Select(v => (float)v).ToArray();

    [Fact]
    public void SeedCnn_gradients_match_finite_differences()
    {
        var model = new SeedCnn(maxBatch: 3, seed: 21) { Training = true };
        var m = new Trainable(model.Parameters, SeedCnn.InputSize, SeedCnn.OutputSize, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx), n => model.Gradient(n).ToArray());
        Check(m, (x, p, b) =>
        {
            double[] h = D.Pool2d(D.Relu(D.Conv2d(x, b, 1, 28, 28, p("conv1.weight"), 32, 3, p("conv1.bias"), padding: 1)), b, 32, 28, 28, 2, 2, 0, max: true);
            h = D.Pool2d(D.Relu(D.Conv2d(h, b, 32, 14, 14, p("conv2.weight"), 64, 3, p("conv2.bias"), padding: 1)), b, 64, 14, 14, 2, 2, 0, max: true);
            h = D.Relu(D.Linear(h, b, 3136, p("fc1.weight"), 128, p("fc1.bias")));
            return D.Linear(h, b, 128, p("fc2.weight"), 10, p("fc2.bias"));
        }, batch: 2, seed: 31, samplesPerTensor: 12);
    }

    [Fact]
    public void StridedDilatedConv_gradients_match_finite_differences()
    {
        var model = new StridedDilatedConv(maxBatch: 3, seed: 22) { Training = true };
        var m = new Trainable(model.Parameters, StridedDilatedConv.InputSize, StridedDilatedConv.OutputSize, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx), n => model.Gradient(n).ToArray());
        Check(m, (x, p, b) =>
        {
            double[] h = D.Tanh(D.Conv2d(x, b, 3, 11, 9, p("conv.weight"), 5, 3, p("conv.bias"), 2, 2, 2));
            return D.Softmax(D.Linear(h, b, 150, p("fc.weight"), 7, p("fc.bias")), b, 7, log: true);
        }, batch: 3, seed: 32);
    }

    [Fact]
    public void PoolingMix_gradients_match_finite_differences()
    {
        var model = new PoolingMix(maxBatch: 2, seed: 23) { Training = true };
        var m = new Trainable(model.Parameters, PoolingMix.InputSize, PoolingMix.OutputSize, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx), n => model.Gradient(n).ToArray());
        Check(m, (x, p, b) =>
        {
            double[] h = D.Sigmoid(D.Conv2d(x, b, 2, 9, 10, p("conv.weight"), 20, 1, null));
            h = D.Pool2d(h, b, 20, 9, 10, 3, 2, 1, max: false);
            return D.Pool2d(h, b, 20, 5, 5, 3, 2, 1, max: true);
        }, batch: 2, seed: 33);
    }

    [Fact]
    public void FusedPools_gradients_match_finite_differences()
    {
        var model = new FusedPools(maxBatch: 2, seed: 24) { Training = true };
        var m = new Trainable(model.Parameters, FusedPools.InputSize, FusedPools.OutputSize, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx), n => model.Gradient(n).ToArray());
        Check(m, (x, p, b) =>
        {
            double[] h = D.Pool2d(D.Tanh(D.Conv2d(x, b, 4, 8, 8, p("conv1.weight"), 24, 3, p("conv1.bias"), padding: 1)), b, 24, 8, 8, 2, 2, 0, max: false);
            return D.Pool2d(D.Relu(D.Conv2d(h, b, 24, 4, 4, p("conv2.weight"), 16, 2, p("conv2.bias"))), b, 16, 3, 3, 3, 3, 0, max: true);
        }, batch: 2, seed: 34);
    }

    [Fact]
    public void ElementwiseAndReshape_gradients_match_finite_differences()
    {
        var model = new ElementwiseAndReshape(maxBatch: 3, seed: 25) { Training = true };
        var m = new Trainable(model.Parameters, ElementwiseAndReshape.InputSize, ElementwiseAndReshape.OutputSize, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx), n => model.Gradient(n).ToArray());
        Check(m, (x, p, b) =>
        {
            double[] a = D.Linear(x, b, 20, p("a.weight"), 48, p("a.bias"));
            double[] s = D.Add(a, D.Linear(x, b, 20, p("b.weight"), 48, p("b.bias")));
            double[] q = D.Mul(D.Sigmoid(a), s);
            double[] h = D.Relu(D.Conv2d(q, b, 3, 4, 4, p("conv.weight"), 4, 3, p("conv.bias"), padding: 1));
            return D.Softmax(D.Linear(h, b, 64, p("head.weight"), 6, null), b, 6, log: false);
        }, batch: 3, seed: 35);
    }

    /// <summary>A generated model through the interface every one implements; its gradients are read in the parameters' layout.</summary>
    private static Trainable Of(ICompiledModel model) => new(
        model.Parameters, model.InputLength, model.OutputLength, (x, y) => model.Forward(x, y), (g, dx) => model.Backward(g, dx),
        name =>
        {
            ParameterInfo p = model.Parameters.Info(name);
            return model.Gradients.Span.Slice(p.Offset, p.Length).ToArray();
        });

    /// <summary>The recurrent models of RecurrentModels.cs, each with its double-precision reference.</summary>
    [Theory]
    [InlineData("LstmClassifier", 3, 24)]
    [InlineData("LstmFinalStates", 3, 24)]
    [InlineData("LstmInitialStates", 3, 24)]
    [InlineData("LstmDeepNoBias", 3, 24)]
    [InlineData("GruClassifier", 3, 24)]
    [InlineData("GruInitialState", 3, 24)]
    [InlineData("GruSequenceNoBias", 3, 24)]
    [InlineData("SeedRnn", 2, 8)]
    [InlineData("SeedRnn", 1, 8)] // batch 1 runs the software-pipelined step loop
    [InlineData("SeedGru", 1, 8)]
    [InlineData("LstmStackInitialStates", 1, 16)] // the batch-1 wavefront of stacked layers, given states
    [InlineData("LstmStackInitialStates", 2, 16)]
    [InlineData("GruStackNoBias", 1, 16)]
    [InlineData("LstmWideOneLayer", 1, 16)] // the pipelined batch-1 loop of a single layer
    public void Recurrent_gradients_match_finite_differences(string name, int batch, int samplesPerTensor)
    {
        ICompiledModel model = RecurrentModels.Create(name, batch, seed: 26);
        model.Training = true;
        Check(Of(model), (x, p, b) => RecurrentReference.Models[name](x, p, b), batch, seed: 36, samplesPerTensor);
    }

    [Fact]
    public void Backward_needs_a_training_forward_and_checks_lengths()
    {
        var model = new SeedCnn(maxBatch: 2, seed: 1);
        var x = new float[2 * SeedCnn.InputSize];
        var y = new float[2 * SeedCnn.OutputSize];
        model.Forward(x, y);
        var notTrained = Assert.Throws<InvalidOperationException>(() => model.Backward(y));
        Assert.Contains("Training = true", notTrained.Message);

        model.Training = true;
        model.Forward(x, y);
        float before = model.Gradients.Span[0];
        var wrong = Assert.Throws<ArgumentException>(() => model.Backward(new float[SeedCnn.OutputSize]));
        Assert.Contains("20", wrong.Message); // 2 x 10 expected
        Assert.Equal(before, model.Gradients.Span[0]);
        Assert.Throws<ArgumentException>(() => model.Backward(y, new float[5]));
    }
}
