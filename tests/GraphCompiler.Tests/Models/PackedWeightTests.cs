using GraphCompiler.Tests.Reference;
using Xunit;
using static GraphCompiler.Ops;
using D = GraphCompiler.Tests.Reference.DoubleReference;

namespace GraphCompiler.Tests.Models;

/// <summary>
/// Linears whose sizes are no multiple of any register tile (16, 8 or 4 floats): the packed weights'
/// transposes end in partial tiles on both sides.
/// </summary>
[Model]
public partial class OddLinears
{
    [Linear(37, 10)] readonly Layer a;
    [Linear(10, 19)] readonly Layer b;

    [Forward]
    Tensor Forward([Shape(37)] Tensor x) => b(Tanh(a(x)));
}

/// <summary>
/// Odd channel counts in every convolution pack, and Linears that read flattened channels-last tensors in
/// place: <c>h</c> keeps a one-pixel zero border (conv2 reads it with padding 1) and a channel stride above
/// its 10 channels, so the weight permutations go image row by image row.
/// </summary>
[Model]
public partial class OddConvFlatten
{
    [Conv2d(3, 10, Kernel = 3, Padding = 1)]  readonly Layer conv1;
    [Conv2d(10, 17, Kernel = 2, Padding = 1)] readonly Layer conv2;
    [Linear(10 * 4 * 5, 11)]                  readonly Layer fc1;
    [Linear(17 * 5 * 6, 11)]                  readonly Layer fc2;

    [Forward]
    Tensor Forward([Shape(3, 4, 5)] Tensor x)
    {
        var h = Tanh(conv1(x));
        var g = Tanh(conv2(h));
        return fc1(Flatten(h)) + fc2(Flatten(g));
    }
}

/// <summary>
/// The packed copies of the weights (rebuilt after every parameter change, by blocked transposes in register
/// tiles) on sizes that end in partial tiles: every output, every parameter gradient and every input gradient
/// element against a double-precision reference, on whichever vector width this process runs.
/// </summary>
public class PackedWeightTests
{
    private const int Batch = 2;

    [Fact]
    public void Odd_linears_match_the_reference_in_forward_and_backward()
    {
        var model = new OddLinears(maxBatch: Batch, seed: 41) { Training = true };
        CheckAll(
            model.Parameters, OddLinears.InputSize, OddLinears.OutputSize, model.Forward, model.Backward, n => model.Gradient(n).ToArray(),
            (x, p) => D.Linear(D.Tanh(D.Linear(x, Batch, 37, p("a.weight"), 10, p("a.bias"))), Batch, 10, p("b.weight"), 19, p("b.bias")),
            exact: null, seed: 42);
    }

    [Fact]
    public void Odd_convolutions_and_bordered_flattens_match_the_reference_in_forward_and_backward()
    {
        var model = new OddConvFlatten(maxBatch: Batch, seed: 43) { Training = true };
        CheckAll(
            model.Parameters, OddConvFlatten.InputSize, OddConvFlatten.OutputSize, model.Forward, model.Backward, n => model.Gradient(n).ToArray(),
            OddConvFlattenReference, OddConvFlattenLinearGradients, seed: 44);
    }

    [Fact]
    public void Packed_weights_follow_a_parameter_change()
    {
        var model = new OddConvFlatten(maxBatch: Batch, seed: 45);
        float[] x = TestData.Random(Batch * OddConvFlatten.InputSize, seed: 46);
        var y = new float[Batch * OddConvFlatten.OutputSize];
        model.Forward(x, y); // packs the first weights

        // Another set of weights, written as an optimizer step writes them.
        float[] next = TestData.Random(model.Parameters.BufferLength, seed: 47, scale: 0.3f);
        next.CopyTo(model.Parameters.Values);
        model.Forward(x, y);

        Close.Assert(Floats(OddConvFlattenReference(Doubles(x), Parameter(model.Parameters))), y, 1e-4, 1e-5, "forward after the change");
    }

    private static double[] OddConvFlattenReference(double[] x, Func<string, double[]> p)
    {
        (double[] h, double[] g) = OddConvFlattenFeatures(x, p);
        return D.Add(D.Linear(h, Batch, 200, p("fc1.weight"), 11, p("fc1.bias")), D.Linear(g, Batch, 510, p("fc2.weight"), 11, p("fc2.bias")));
    }

    private static (double[] H, double[] G) OddConvFlattenFeatures(double[] x, Func<string, double[]> p)
    {
        double[] h = D.Tanh(D.Conv2d(x, Batch, 3, 4, 5, p("conv1.weight"), 10, 3, p("conv1.bias"), padding: 1));
        return (h, D.Tanh(D.Conv2d(h, Batch, 10, 4, 5, p("conv2.weight"), 17, 2, p("conv2.bias"), padding: 1)));
    }

    /// <summary>
    /// The Linears' gradients in closed form (dW = r^T x, db = the sum of r), which spares thousands of
    /// finite differences: y = fc1(h) + fc2(g), so dL/dy = r reaches both unchanged.
    /// </summary>
    private static Dictionary<string, double[]> OddConvFlattenLinearGradients(double[] x, Func<string, double[]> p, float[] r)
    {
        (double[] h, double[] g) = OddConvFlattenFeatures(x, p);
        var exact = new Dictionary<string, double[]>();
        foreach ((string layer, double[] input, int features) in new[] { ("fc1", h, 200), ("fc2", g, 510) })
        {
            var dw = new double[11 * features];
            var db = new double[11];
            for (int n = 0; n < Batch; n++)
            {
                for (int o = 0; o < 11; o++)
                {
                    db[o] += r[n * 11 + o];
                    for (int k = 0; k < features; k++)
                    {
                        dw[o * features + k] += r[n * 11 + o] * input[n * features + k];
                    }
                }
            }

            exact[layer + ".weight"] = dw;
            exact[layer + ".bias"] = db;
        }

        return exact;
    }

    /// <summary>
    /// Forward against the reference; then, with L = sum(y * r), every parameter gradient and every input
    /// gradient element against central differences of the reference, or against <paramref name="exact"/>'s
    /// closed forms where it gives them.
    /// </summary>
    private static void CheckAll(
        ParameterSet parameters, int inputSize, int outputSize,
        Action<ReadOnlySpan<float>, Span<float>> forward, Action<ReadOnlySpan<float>, Span<float>> backward, Func<string, float[]> gradient,
        Func<double[], Func<string, double[]>, double[]> reference,
        Func<double[], Func<string, double[]>, float[], Dictionary<string, double[]>>? exact, int seed)
    {
        float[] x = TestData.Random(Batch * inputSize, seed);
        float[] r = TestData.Random(Batch * outputSize, seed + 1);
        var y = new float[Batch * outputSize];
        var dx = new float[Batch * inputSize];
        forward(x, y);
        backward(r, dx);

        Dictionary<string, double[]> values = parameters.Layout.ToDictionary(p => p.Name, p => Doubles(parameters.Read(p.Name).ToArray()));
        double[] xd = Doubles(x);
        Close.Assert(Floats(reference(xd, n => values[n])), y, 1e-4, 1e-5, "forward");

        double Loss() => D.Dot(reference(xd, n => values[n]), r);
        float[] Numeric(double[] v) => [.. Enumerable.Range(0, v.Length).Select(i => (float)FiniteDifference.Central(v, i, Loss))];

        Dictionary<string, double[]> closedForms = exact?.Invoke(xd, n => values[n], r) ?? [];
        foreach (ParameterInfo info in parameters.Layout)
        {
            float[] expected = closedForms.TryGetValue(info.Name, out double[]? known) ? Floats(known) : Numeric(values[info.Name]);
            Close.Assert(expected, gradient(info.Name), 1e-2, 2e-4, "d" + info.Name);
        }

        Close.Assert(Numeric(xd), dx, 1e-2, 2e-4, "dInput");
    }

    private static Func<string, double[]> Parameter(ParameterSet p) => name => Doubles(p.Read(name).ToArray());

    private static double[] Doubles(float[] v) => v.Select(f => (double)f).ToArray();

    private static float[] Floats(double[] v) => v.Select(d => (float)d).ToArray();
}
