using System.Globalization;
using System.Text;
using GraphCompiler.Tests.Golden;
using GraphCompiler.Tests.Models;

namespace GraphCompiler.NeonCheck;

/// <summary>
/// One PyTorch golden case, checked as tests/GraphCompiler.Tests/Golden/GoldenTests.cs checks it: the file is loaded
/// through <see cref="Checkpoint.Load"/> and <see cref="SafeTensorsFile"/>, a training forward and a backward run, and
/// the output and loss are compared with rtol 1e-4, atol 1e-5, every gradient with rtol 1e-3, atol 1e-5.
/// </summary>
internal static class GoldenCheck
{
    private const double OutputRtol = 1e-4, OutputAtol = 1e-5;
    private const double GradientRtol = 1e-3, GradientAtol = 1e-5;

    private static readonly HashSet<string> DataTensors = ["input", "output", "labels", "loss_weights", "loss"];

    /// <summary>Every golden case and the C# model that mirrors it (the models are the test project's, linked).</summary>
    private static readonly Dictionary<string, Func<int, ICompiledModel>> Cases = new()
    {
        [nameof(SeedCnn)] = b => new SeedCnn(b),
        [nameof(StridedDilatedConv)] = b => new StridedDilatedConv(b),
        [nameof(PoolingMix)] = b => new PoolingMix(b),
        [nameof(FusedPools)] = b => new FusedPools(b),
        [nameof(ElementwiseAndReshape)] = b => new ElementwiseAndReshape(b),
        [nameof(LstmClassifier)] = b => new LstmClassifier(b),
        [nameof(LstmFinalStates)] = b => new LstmFinalStates(b),
        [nameof(LstmInitialStates)] = b => new LstmInitialStates(b),
        [nameof(GruClassifier)] = b => new GruClassifier(b),
        [nameof(GruInitialState)] = b => new GruInitialState(b),
        [nameof(LstmDeepNoBias)] = b => new LstmDeepNoBias(b),
        [nameof(GruSequenceNoBias)] = b => new GruSequenceNoBias(b),
        [nameof(ConvStride2Pad1)] = b => new ConvStride2Pad1(b),
        [nameof(ConvDilation2Pad2)] = b => new ConvDilation2Pad2(b),
        [nameof(ConvStride3Dilation2)] = b => new ConvStride3Dilation2(b),
        [nameof(ConvKernel5NoBias)] = b => new ConvKernel5NoBias(b),
        [nameof(ConvKernel4Stride2)] = b => new ConvKernel4Stride2(b),
        [nameof(ConvKernel2Stride2Pad1Dilation3)] = b => new ConvKernel2Stride2Pad1Dilation3(b),
        [nameof(ConvWideChannels)] = b => new ConvWideChannels(b),
        [nameof(Conv1x1Stride2)] = b => new Conv1x1Stride2(b),
        [nameof(MaxPool3Stride2Pad1)] = b => new MaxPool3Stride2Pad1(b),
        [nameof(MaxPool2Odd)] = b => new MaxPool2Odd(b),
        [nameof(MaxPool3Stride1Pad1)] = b => new MaxPool3Stride1Pad1(b),
        [nameof(AvgPool3Stride2Pad1)] = b => new AvgPool3Stride2Pad1(b),
        [nameof(AvgPool2Pad1)] = b => new AvgPool2Pad1(b),
        [nameof(AvgPool3)] = b => new AvgPool3(b),
        [nameof(Linear37To19)] = b => new Linear37To19(b),
        [nameof(Linear64To33NoBias)] = b => new Linear64To33NoBias(b),
        [nameof(TanhOnly)] = b => new TanhOnly(b),
        [nameof(SigmoidOnly)] = b => new SigmoidOnly(b),
        [nameof(ReluOnly)] = b => new ReluOnly(b),
        [nameof(SoftmaxOnly)] = b => new SoftmaxOnly(b),
        [nameof(SoftmaxRows)] = b => new SoftmaxRows(b),
        [nameof(LogSoftmaxOnly)] = b => new LogSoftmaxOnly(b),
    };

    public static IEnumerable<string> CaseNames => Cases.Keys.Order(StringComparer.Ordinal);

    /// <summary>Checks one case; returns the worst |diff| / tolerance of the outputs and of the gradients.</summary>
    public static string Run(string name, string directory)
    {
        if (!Cases.TryGetValue(name, out Func<int, ICompiledModel>? create))
        {
            throw new CheckFailure($"no golden case '{name}'; the cases are {string.Join(", ", CaseNames)}");
        }

        string path = Path.Combine(directory, name + ".safetensors");
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        int batch = checked((int)file["input"].Shape[0]);
        ICompiledModel model = create(batch);
        model.Training = true;
        var failures = new List<string>();

        string[] fileParameters = file.Tensors.Select(t => t.Name)
            .Where(n => !DataTensors.Contains(n) && !n.StartsWith("grad.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        string[] modelParameters = model.Parameters.Layout.Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        if (!fileParameters.SequenceEqual(modelParameters))
        {
            throw new CheckFailure($"parameters differ: file [{string.Join(", ", fileParameters)}], model [{string.Join(", ", modelParameters)}]");
        }

        Checkpoint.Load(path, model.Parameters, options: new CheckpointLoadOptions { AllowExtraTensors = true, AllowFloatConversion = false });
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            if (!file.ReadAsFloat(p.Name).AsSpan().SequenceEqual(model.Parameters.Read(p.Name)))
            {
                failures.Add($"{p.Name} did not load bit-exactly");
            }
        }

        float[] x = file.ReadAsFloat("input");
        float[] expectedY = file.ReadAsFloat("output");
        if (x.Length != batch * model.InputLength || expectedY.Length != batch * model.OutputLength)
        {
            throw new CheckFailure($"sizes differ: input {x.Length} for {batch} x {model.InputLength}, output {expectedY.Length} for {batch} x {model.OutputLength}");
        }

        var y = new float[expectedY.Length];
        model.Forward(x, y);
        double worstOutput = Compare(failures, "output", expectedY, y, OutputRtol, OutputAtol);

        float expectedLoss = file.ReadAsFloat("loss")[0];
        float[] dy;
        if (file.Metadata["loss"] == "cross_entropy")
        {
            int[] labels = file.ReadAsFloat("labels").Select(v => checked((int)v)).ToArray();
            dy = new float[y.Length];
            float loss = Losses.CrossEntropy(y, labels, dy, Reduction.Mean);
            Compare(failures, "loss", [expectedLoss], [loss], OutputRtol, OutputAtol);
        }
        else
        {
            dy = file.ReadAsFloat("loss_weights"); // L = sum(y * r): dL/dy = r
            double loss = 0, allowed = 0;
            for (int i = 0; i < y.Length; i++)
            {
                loss += (double)y[i] * dy[i];
                allowed += Math.Abs(dy[i]) * (OutputAtol + OutputRtol * Math.Abs(expectedY[i]));
            }

            if (Math.Abs(loss - expectedLoss) > allowed + 1e-6 * Math.Abs(expectedLoss))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"loss: expected {expectedLoss:R}, actual {loss:R}, allowed |diff| {allowed:G3}"));
            }
        }

        var dx = new float[x.Length];
        model.Backward(dy, dx);
        double worstGradient = 0;
        Span<float> gradients = model.Gradients.Span;
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            float[] actual = gradients.Slice(p.Offset, p.Length).ToArray();
            worstGradient = Math.Max(worstGradient, Compare(failures, "grad." + p.Name, file.ReadAsFloat("grad." + p.Name), actual, GradientRtol, GradientAtol));
        }

        worstGradient = Math.Max(worstGradient, Compare(failures, "grad.input", file.ReadAsFloat("grad.input"), dx, GradientRtol, GradientAtol));

        if (failures.Count > 0)
        {
            throw new CheckFailure($"differs from PyTorch ({Platform.VectorWidth}):\n    " + string.Join("\n    ", failures));
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"batch {batch}, worst |diff| / tolerance: output {worstOutput:F4}, gradients {worstGradient:F4} (1 is the limit)");
    }

    /// <summary>
    /// |actual - expected| &lt;= atol + rtol * |expected| element-wise (NaN never passes); records a message naming the
    /// first and the worst element when it fails; returns the worst |diff| / tolerance.
    /// </summary>
    private static double Compare(List<string> failures, string what, float[] expected, float[] actual, double rtol, double atol)
    {
        if (expected.Length != actual.Length)
        {
            failures.Add($"{what}: length differs: expected {expected.Length}, actual {actual.Length}");
            return double.PositiveInfinity;
        }

        int mismatches = 0, first = -1, worstIndex = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double ratio = Math.Abs((double)actual[i] - expected[i]) / (atol + rtol * Math.Abs((double)expected[i]));
            if (double.IsNaN(ratio))
            {
                ratio = double.PositiveInfinity;
            }

            if (ratio > 1)
            {
                mismatches++;
                first = first < 0 ? i : first;
            }

            if (worstIndex < 0 || ratio > worst)
            {
                worst = ratio;
                worstIndex = i;
            }
        }

        if (mismatches > 0)
        {
            var message = new StringBuilder();
            message.Append(CultureInfo.InvariantCulture, $"{what}: {mismatches} of {expected.Length} elements differ (rtol {rtol:G3}, atol {atol:G3}); ");
            message.Append(CultureInfo.InvariantCulture, $"first [{first}] expected {expected[first]:R} actual {actual[first]:R}; ");
            message.Append(CultureInfo.InvariantCulture, $"worst [{worstIndex}] expected {expected[worstIndex]:R} actual {actual[worstIndex]:R}");
            failures.Add(message.ToString());
        }

        return worst;
    }
}
