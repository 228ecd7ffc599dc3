using System.Globalization;
using GraphCompiler.Tests.Models;
using Xunit;
using Xunit.Abstractions;

namespace GraphCompiler.Tests.Golden;

/// <summary>
/// The Transformer against PyTorch's nn.Transformer (tests/golden/data/TinyTransformer.safetensors, written by
/// make_golden.py): token inputs with padding at the ends of the sequences, so that the key padding masks of the
/// encoder, the decoder and the cross-attention, and the decoder's causal mask, all matter. The loss is PyTorch's
/// <c>nll_loss(..., ignore_index=0)</c> over the log-probabilities. Outputs with rtol 1e-4, atol 1e-5; gradients
/// of every parameter with rtol 1e-3, atol 1e-5.
/// </summary>
public class TransformerGoldenTests(ITestOutputHelper output)
{
    private const double OutputRtol = 1e-4, OutputAtol = 1e-5;
    private const double GradientRtol = 1e-3, GradientAtol = 1e-5;

    /// <summary>The token-model cases (tests/golden/data/&lt;name&gt;.safetensors).</summary>
    public static readonly string[] Names = ["TinyTransformer"];

    public static TheoryData<string> CaseNames => new(Names);

    private static readonly HashSet<string> DataTensors = ["src", "tgt", "output", "labels", "loss"];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Matches_PyTorch(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", "data", name + ".safetensors");
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        int[] src = file.ReadAsFloat("src").Select(v => checked((int)v)).ToArray();
        int[] tgt = file.ReadAsFloat("tgt").Select(v => checked((int)v)).ToArray();
        int[] labels = file.ReadAsFloat("labels").Select(v => checked((int)v)).ToArray();
        int batch = checked((int)file["src"].Shape[0]);
        var model = new TinyTransformer(batch) { Training = true };

        string[] fileParameters = file.Tensors.Select(t => t.Name).Where(n => !DataTensors.Contains(n) && !n.StartsWith("grad.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(model.Parameters.Layout.Select(p => p.Name).Order(StringComparer.Ordinal), fileParameters);
        Checkpoint.Load(path, model.Parameters, options: new CheckpointLoadOptions { AllowExtraTensors = true, AllowFloatConversion = false });

        float[] expectedY = file.ReadAsFloat("output");
        var y = new float[batch * TinyTransformer.OutputSize];
        Assert.Equal(expectedY.Length, y.Length);
        model.Forward(src, tgt, y);
        var failures = new List<string>();
        double worstOutput = GoldenTests.Compare(failures, "output", expectedY, y, OutputRtol, OutputAtol);

        // The runtime's loss, checked against PyTorch's nll_loss(ignore_index=0): mean over the counted targets.
        var dy = new float[y.Length];
        float loss = SequenceLoss.NegativeLogLikelihood(y, labels, dy, ignoreIndex: 0, out _);
        GoldenTests.Compare(failures, "loss", file.ReadAsFloat("loss"), [loss], OutputRtol, OutputAtol);
        model.Backward(dy);
        double worstGradient = 0;
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            worstGradient = Math.Max(worstGradient, GoldenTests.Compare(failures, "grad." + p.Name, file.ReadAsFloat("grad." + p.Name), model.Gradient(p.Name).ToArray(), GradientRtol, GradientAtol));
        }

        string width = GoldenTests.VectorWidth;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: worst |diff| / tolerance: output {worstOutput:F4}, gradients {worstGradient:F4} (1 is the limit); vector width {width}"));
        Assert.True(failures.Count == 0, $"{name} differs from PyTorch ({width}):\n" + string.Join("\n", failures));
    }
}
