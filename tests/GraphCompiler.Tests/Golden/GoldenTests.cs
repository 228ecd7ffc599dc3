using System.Globalization;
using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace GraphCompiler.Tests.Golden;

/// <summary>
/// The generated forward and backward passes against PyTorch: for every case, tests/golden/data/&lt;Case&gt;.safetensors
/// (written by tests/golden/make_golden.py, committed) holds PyTorch's parameters, an input batch, the output, the
/// loss and the gradients of the loss with respect to every parameter and the input. The file is loaded through the
/// project's own loader, the model runs a training forward and a backward on this process's vector width, and
/// everything is compared: outputs with rtol 1e-4, atol 1e-5; gradients with rtol 1e-3, atol 1e-5.
/// </summary>
public class GoldenTests(ITestOutputHelper output)
{
    private const double OutputRtol = 1e-4, OutputAtol = 1e-5;
    private const double GradientRtol = 1e-3, GradientAtol = 1e-5;

    /// <summary>The names the script writes besides the parameters and their <c>grad.</c> entries.</summary>
    private static readonly HashSet<string> DataTensors = ["input", "output", "labels", "loss_weights", "loss"];

    private delegate void Run(ReadOnlySpan<float> from, Span<float> to);

    private delegate Span<float> GradientOf(string name);

    /// <summary>What the checks need from a generated model (the classes share no interface).</summary>
    private sealed record Subject(ParameterSet Parameters, int InputSize, int OutputSize, Run Forward, Run Backward, GradientOf Gradient);

    /// <summary>Every case: its file's name and the C# model that mirrors the PyTorch module, in training mode.</summary>
    private static readonly Dictionary<string, Func<int, Subject>> Cases = new()
    {
        // tests/GraphCompiler.Tests/Models/TestModels.cs
        ["SeedCnn"] = b => { var m = new SeedCnn(b) { Training = true }; return new(m.Parameters, SeedCnn.InputSize, SeedCnn.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["StridedDilatedConv"] = b => { var m = new StridedDilatedConv(b) { Training = true }; return new(m.Parameters, StridedDilatedConv.InputSize, StridedDilatedConv.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["PoolingMix"] = b => { var m = new PoolingMix(b) { Training = true }; return new(m.Parameters, PoolingMix.InputSize, PoolingMix.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["FusedPools"] = b => { var m = new FusedPools(b) { Training = true }; return new(m.Parameters, FusedPools.InputSize, FusedPools.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ElementwiseAndReshape"] = b => { var m = new ElementwiseAndReshape(b) { Training = true }; return new(m.Parameters, ElementwiseAndReshape.InputSize, ElementwiseAndReshape.OutputSize, m.Forward, m.Backward, m.Gradient); },

        // tests/GraphCompiler.Tests/Models/RecurrentModels.cs
        ["LstmClassifier"] = b => { var m = new LstmClassifier(b) { Training = true }; return new(m.Parameters, LstmClassifier.InputSize, LstmClassifier.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["LstmFinalStates"] = b => { var m = new LstmFinalStates(b) { Training = true }; return new(m.Parameters, LstmFinalStates.InputSize, LstmFinalStates.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["LstmInitialStates"] = b => { var m = new LstmInitialStates(b) { Training = true }; return new(m.Parameters, LstmInitialStates.InputSize, LstmInitialStates.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["GruClassifier"] = b => { var m = new GruClassifier(b) { Training = true }; return new(m.Parameters, GruClassifier.InputSize, GruClassifier.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["GruInitialState"] = b => { var m = new GruInitialState(b) { Training = true }; return new(m.Parameters, GruInitialState.InputSize, GruInitialState.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["LstmDeepNoBias"] = b => { var m = new LstmDeepNoBias(b) { Training = true }; return new(m.Parameters, LstmDeepNoBias.InputSize, LstmDeepNoBias.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["GruSequenceNoBias"] = b => { var m = new GruSequenceNoBias(b) { Training = true }; return new(m.Parameters, GruSequenceNoBias.InputSize, GruSequenceNoBias.OutputSize, m.Forward, m.Backward, m.Gradient); },

        // GoldenModels.cs: convolutions
        ["ConvStride2Pad1"] = b => { var m = new ConvStride2Pad1(b) { Training = true }; return new(m.Parameters, ConvStride2Pad1.InputSize, ConvStride2Pad1.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvDilation2Pad2"] = b => { var m = new ConvDilation2Pad2(b) { Training = true }; return new(m.Parameters, ConvDilation2Pad2.InputSize, ConvDilation2Pad2.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvStride3Dilation2"] = b => { var m = new ConvStride3Dilation2(b) { Training = true }; return new(m.Parameters, ConvStride3Dilation2.InputSize, ConvStride3Dilation2.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvKernel5NoBias"] = b => { var m = new ConvKernel5NoBias(b) { Training = true }; return new(m.Parameters, ConvKernel5NoBias.InputSize, ConvKernel5NoBias.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvKernel4Stride2"] = b => { var m = new ConvKernel4Stride2(b) { Training = true }; return new(m.Parameters, ConvKernel4Stride2.InputSize, ConvKernel4Stride2.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvKernel2Stride2Pad1Dilation3"] = b => { var m = new ConvKernel2Stride2Pad1Dilation3(b) { Training = true }; return new(m.Parameters, ConvKernel2Stride2Pad1Dilation3.InputSize, ConvKernel2Stride2Pad1Dilation3.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ConvWideChannels"] = b => { var m = new ConvWideChannels(b) { Training = true }; return new(m.Parameters, ConvWideChannels.InputSize, ConvWideChannels.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["Conv1x1Stride2"] = b => { var m = new Conv1x1Stride2(b) { Training = true }; return new(m.Parameters, Conv1x1Stride2.InputSize, Conv1x1Stride2.OutputSize, m.Forward, m.Backward, m.Gradient); },

        // pools
        ["MaxPool3Stride2Pad1"] = b => { var m = new MaxPool3Stride2Pad1(b) { Training = true }; return new(m.Parameters, MaxPool3Stride2Pad1.InputSize, MaxPool3Stride2Pad1.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["MaxPool2Odd"] = b => { var m = new MaxPool2Odd(b) { Training = true }; return new(m.Parameters, MaxPool2Odd.InputSize, MaxPool2Odd.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["MaxPool3Stride1Pad1"] = b => { var m = new MaxPool3Stride1Pad1(b) { Training = true }; return new(m.Parameters, MaxPool3Stride1Pad1.InputSize, MaxPool3Stride1Pad1.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["AvgPool3Stride2Pad1"] = b => { var m = new AvgPool3Stride2Pad1(b) { Training = true }; return new(m.Parameters, AvgPool3Stride2Pad1.InputSize, AvgPool3Stride2Pad1.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["AvgPool2Pad1"] = b => { var m = new AvgPool2Pad1(b) { Training = true }; return new(m.Parameters, AvgPool2Pad1.InputSize, AvgPool2Pad1.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["AvgPool3"] = b => { var m = new AvgPool3(b) { Training = true }; return new(m.Parameters, AvgPool3.InputSize, AvgPool3.OutputSize, m.Forward, m.Backward, m.Gradient); },

        // linear
        ["Linear37To19"] = b => { var m = new Linear37To19(b) { Training = true }; return new(m.Parameters, Linear37To19.InputSize, Linear37To19.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["Linear64To33NoBias"] = b => { var m = new Linear64To33NoBias(b) { Training = true }; return new(m.Parameters, Linear64To33NoBias.InputSize, Linear64To33NoBias.OutputSize, m.Forward, m.Backward, m.Gradient); },

        // activations and softmax
        ["TanhOnly"] = b => { var m = new TanhOnly(b) { Training = true }; return new(m.Parameters, TanhOnly.InputSize, TanhOnly.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["SigmoidOnly"] = b => { var m = new SigmoidOnly(b) { Training = true }; return new(m.Parameters, SigmoidOnly.InputSize, SigmoidOnly.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["ReluOnly"] = b => { var m = new ReluOnly(b) { Training = true }; return new(m.Parameters, ReluOnly.InputSize, ReluOnly.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["SoftmaxOnly"] = b => { var m = new SoftmaxOnly(b) { Training = true }; return new(m.Parameters, SoftmaxOnly.InputSize, SoftmaxOnly.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["SoftmaxRows"] = b => { var m = new SoftmaxRows(b) { Training = true }; return new(m.Parameters, SoftmaxRows.InputSize, SoftmaxRows.OutputSize, m.Forward, m.Backward, m.Gradient); },
        ["LogSoftmaxOnly"] = b => { var m = new LogSoftmaxOnly(b) { Training = true }; return new(m.Parameters, LogSoftmaxOnly.InputSize, LogSoftmaxOnly.OutputSize, m.Forward, m.Backward, m.Gradient); },
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys.Order(StringComparer.Ordinal));

    /// <summary>Where the csproj copies tests/golden/data.</summary>
    private static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "Golden", "data");

    private static string PathOf(string name) => Path.Combine(DataDirectory, name + ".safetensors");

    [Fact]
    public void Every_golden_file_has_a_case_and_every_case_a_file()
    {
        Assert.True(Directory.Exists(DataDirectory), $"{DataDirectory} is missing: the csproj copies tests/golden/data there");
        string[] files = Directory.GetFiles(DataDirectory, "*.safetensors").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Cases.Keys.Concat(TransformerGoldenTests.Names).Order(StringComparer.Ordinal), files);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Matches_PyTorch(string name)
    {
        string path = PathOf(name);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        SafeTensorInfo inputInfo = file["input"];
        int batch = checked((int)inputInfo.Shape[0]);
        Subject model = Cases[name](batch);

        // The PyTorch module has exactly the parameters of the C# model, under the same names.
        string[] fileParameters = file.Tensors.Select(t => t.Name).Where(n => !DataTensors.Contains(n) && !n.StartsWith("grad.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(model.Parameters.Layout.Select(p => p.Name).Order(StringComparer.Ordinal), fileParameters);

        // Loaded through the project's own loader: F32 only, the extra tensors (input, output, gradients) ignored.
        Checkpoint.Load(path, model.Parameters, options: new CheckpointLoadOptions { AllowExtraTensors = true, AllowFloatConversion = false });
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            Assert.True(file.ReadAsFloat(p.Name).AsSpan().SequenceEqual(model.Parameters.Read(p.Name)), $"{p.Name} did not load bit-exactly");
        }

        float[] x = file.ReadAsFloat("input");
        float[] expectedY = file.ReadAsFloat("output");
        Assert.Equal(batch * model.InputSize, x.Length);
        Assert.Equal(batch * model.OutputSize, expectedY.Length);
        Assert.Equal(batch, checked((int)file["output"].Shape[0]));

        var failures = new List<string>();
        double worstOutput = 0, worstGradient = 0;

        var y = new float[expectedY.Length];
        model.Forward(x, y);
        worstOutput = Compare(failures, "output", expectedY, y, OutputRtol, OutputAtol);

        // dLoss/dOutput from this model's own output, as PyTorch computed it from its own.
        float expectedLoss = file.ReadAsFloat("loss")[0];
        string lossKind = file.Metadata["loss"];
        float[] dy;
        if (lossKind == "cross_entropy")
        {
            int[] labels = file.ReadAsFloat("labels").Select(v => checked((int)v)).ToArray();
            dy = new float[y.Length];
            float loss = Losses.CrossEntropy(y, labels, dy, Reduction.Mean);
            Compare(failures, "loss", [expectedLoss], [loss], OutputRtol, OutputAtol);
        }
        else
        {
            Assert.Equal("weighted_sum", lossKind);
            dy = file.ReadAsFloat("loss_weights"); // L = sum(y * r): dL/dy = r
            double loss = 0, allowed = 0;
            for (int i = 0; i < y.Length; i++)
            {
                loss += (double)y[i] * dy[i];
                allowed += Math.Abs(dy[i]) * (OutputAtol + OutputRtol * Math.Abs(expectedY[i])); // what the outputs' tolerance allows
            }

            if (Math.Abs(loss - expectedLoss) > allowed + 1e-6 * Math.Abs(expectedLoss))
            {
                failures.Add($"loss: expected {expectedLoss:R}, actual {loss:R}, allowed |diff| {allowed:G3}");
            }
        }

        var dx = new float[x.Length];
        model.Backward(dy, dx);
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            worstGradient = Math.Max(worstGradient, Compare(failures, "grad." + p.Name, file.ReadAsFloat("grad." + p.Name), model.Gradient(p.Name).ToArray(), GradientRtol, GradientAtol));
        }

        worstGradient = Math.Max(worstGradient, Compare(failures, "grad.input", file.ReadAsFloat("grad.input"), dx, GradientRtol, GradientAtol));

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: worst |diff| / tolerance: output {worstOutput:F4}, gradients {worstGradient:F4} (1 is the limit); vector width {VectorWidth}"));
        Assert.True(failures.Count == 0, $"{name} differs from PyTorch ({VectorWidth}):\n" + string.Join("\n", failures));
    }

    /// <summary>Compares with <see cref="Close.Assert"/>, collecting its message; returns the worst |diff| / tolerance.</summary>
    internal static double Compare(List<string> failures, string what, float[] expected, float[] actual, double rtol, double atol)
    {
        try
        {
            Close.Assert(expected, actual, rtol, atol, what);
        }
        catch (XunitException e)
        {
            failures.Add(e.Message);
        }

        double worst = 0;
        for (int i = 0; i < Math.Min(expected.Length, actual.Length); i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]) / (atol + rtol * Math.Abs((double)expected[i])));
        }

        return worst;
    }

    internal static string VectorWidth =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "512-bit" :
        System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "256-bit" :
        System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
}
