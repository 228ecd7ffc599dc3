using System.Globalization;
using GraphCompiler.Tests.Models;

namespace GraphCompiler.NeonCheck;

/// <summary>
/// The Transformer's PyTorch golden case (TinyTransformer: nn.Transformer with padded sources and targets, the
/// causal mask, NLL with ignore_index 0), checked as tests/GraphCompiler.Tests/Golden/TransformerGoldenTests.cs
/// checks it: output and loss with rtol 1e-4, atol 1e-5, every parameter's gradient with rtol 1e-3, atol 1e-5.
/// </summary>
internal static class TransformerGoldenCheck
{
    private const double OutputRtol = 1e-4, OutputAtol = 1e-5;
    private const double GradientRtol = 1e-3, GradientAtol = 1e-5;

    public static string Run(string directory)
    {
        string path = Path.Combine(directory, "TinyTransformer.safetensors");
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        int[] src = file.ReadAsFloat("src").Select(v => checked((int)v)).ToArray();
        int[] tgt = file.ReadAsFloat("tgt").Select(v => checked((int)v)).ToArray();
        int[] labels = file.ReadAsFloat("labels").Select(v => checked((int)v)).ToArray();
        int batch = checked((int)file["src"].Shape[0]);
        var model = new TinyTransformer(batch) { Training = true };
        Checkpoint.Load(path, model.Parameters, options: new CheckpointLoadOptions { AllowExtraTensors = true, AllowFloatConversion = false });

        float[] expected = file.ReadAsFloat("output");
        var y = new float[batch * TinyTransformer.OutputSize];
        if (expected.Length != y.Length)
        {
            throw new CheckFailure($"output sizes differ: file {expected.Length}, model {y.Length}");
        }

        model.Forward(src, tgt, y);
        double worstOutput = Worst(expected, y, OutputRtol, OutputAtol);
        var dy = new float[y.Length];
        float loss = SequenceLoss.NegativeLogLikelihood(y, labels, dy, ignoreIndex: 0, out _); // PyTorch's nll_loss(ignore_index=0)
        worstOutput = Math.Max(worstOutput, Worst(file.ReadAsFloat("loss"), [loss], OutputRtol, OutputAtol));
        model.Backward(dy);
        double worstGradient = 0;
        foreach (ParameterInfo p in model.Parameters.Layout)
        {
            worstGradient = Math.Max(worstGradient, Worst(file.ReadAsFloat("grad." + p.Name), model.Gradient(p.Name).ToArray(), GradientRtol, GradientAtol));
        }

        if (worstOutput > 1 || worstGradient > 1)
        {
            throw new CheckFailure(string.Create(CultureInfo.InvariantCulture, $"worst |diff| / tolerance: output {worstOutput:F3}, gradients {worstGradient:F3} (1 is the limit)"));
        }

        return string.Create(CultureInfo.InvariantCulture, $"worst |diff| / tolerance: output {worstOutput:F4}, gradients {worstGradient:F4}");
    }

    private static double Worst(float[] expected, float[] actual, double rtol, double atol)
    {
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]) / (atol + rtol * Math.Abs((double)expected[i])));
        }

        return worst;
    }
}
