using System.Globalization;
using GraphCompiler;

namespace GraphCompiler.Bench.Rnn;

/// <summary>
/// The seed's RNN and its GRU twin: a 2-layer recurrent network (hidden size 128) over the 28 rows of an
/// image (28 steps of 28 features), the last step's hidden state into <c>fc</c>, Linear(128, 10). Shapes,
/// PyTorch parameter layout (<c>lstm.weight_ih_l0</c> [4H, 28], ...), cost and seeded parameters. Gates
/// per layer: 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n).
/// </summary>
public sealed class SeedRecurrent
{
    public const int Steps = 28, Features = 28, Hidden = 128, Layers = 2, Classes = 10;
    public const int InputSize = Steps * Features; // 784 floats per sample, row after row
    public const int OutputSize = Classes;

    /// <summary>The seed's RNN: <c>nn.LSTM(28, 128, 2, batch_first=True)</c> then <c>nn.Linear(128, 10)</c>.</summary>
    public static readonly SeedRecurrent Lstm = new("lstm", "seed LSTM", "LSTM", 4);

    /// <summary>The same with <c>nn.GRU</c>.</summary>
    public static readonly SeedRecurrent Gru = new("gru", "GRU of the seed LSTM's shape", "GRU", 3);

    private SeedRecurrent(string layer, string title, string cell, int gates)
    {
        Layer = layer;
        Title = title;
        Cell = cell;
        Gates = gates;
        var parameters = new List<(string, int[])>();
        for (int k = 0; k < Layers; k++)
        {
            int input = k == 0 ? Features : Hidden;
            parameters.Add(($"{layer}.weight_ih_l{k}", [gates * Hidden, input]));
            parameters.Add(($"{layer}.weight_hh_l{k}", [gates * Hidden, Hidden]));
            parameters.Add(($"{layer}.bias_ih_l{k}", [gates * Hidden]));
            parameters.Add(($"{layer}.bias_hh_l{k}", [gates * Hidden]));
        }

        parameters.Add(("fc.weight", [Classes, Hidden]));
        parameters.Add(("fc.bias", [Classes]));
        Parameters = parameters;
    }

    /// <summary>The recurrent layer's member name and key: "lstm" or "gru".</summary>
    public string Layer { get; }

    public string Title { get; }

    /// <summary>"LSTM" or "GRU".</summary>
    public string Cell { get; }

    /// <summary>Gate blocks per layer (4 or 3).</summary>
    public int Gates { get; }

    /// <summary>Parameter names and PyTorch shapes, in <c>state_dict</c> order.</summary>
    public IReadOnlyList<(string Name, int[] Shape)> Parameters { get; }

    private long LayerFlops(int k) => 2L * Steps * Gates * Hidden * ((k == 0 ? Features : Hidden) + Hidden);

    private static long FcFlops => 2L * Hidden * Classes;

    /// <summary>
    /// FLOP of one sample's forward pass: per layer and step the input and recurrent products,
    /// 2 x gates x H x (in + H); then fc. Gate nonlinearities and element-wise products not counted.
    /// </summary>
    public long FlopsPerSample => Enumerable.Range(0, Layers).Sum(LayerFlops) + FcFlops;

    /// <summary>
    /// FLOP of one sample's training step: forward + weight gradients (as many multiply-accumulates) + input
    /// gradients of every product but layer 0's input projection (the image needs no gradient): 3 x forward
    /// minus layer 0's input products.
    /// </summary>
    public long TrainingFlopsPerSample => (3 * FlopsPerSample) - (2L * Steps * Gates * Hidden * Features);

    /// <summary>
    /// FLOP per sample of one generated kernel, by its name (<c>Lstm_L1_Input_V512</c>: layer 1's input products;
    /// <c>_Steps</c>: its recurrent products; <c>Fc</c>): null for kernels that only copy.
    /// </summary>
    public double? KernelFlopsPerSample(string kernel)
    {
        int at = kernel.IndexOf("_L", StringComparison.Ordinal);
        int layer = at >= 0 && at + 2 < kernel.Length && char.IsAsciiDigit(kernel[at + 2]) ? kernel[at + 2] - '0' : -1;
        if (layer >= 0 && kernel.Contains("_Input", StringComparison.Ordinal))
        {
            return 2.0 * Steps * Gates * Hidden * (layer == 0 ? Features : Hidden);
        }

        if (layer >= 0 && kernel.Contains("_Steps", StringComparison.Ordinal))
        {
            return 2.0 * Steps * Gates * Hidden * Hidden;
        }

        return kernel.StartsWith("Fc", StringComparison.Ordinal) ? FcFlops : null;
    }

    public string FlopsBreakdown => string.Create(
        CultureInfo.InvariantCulture,
        $"layer 0 {LayerFlops(0):N0} + layer 1 {LayerFlops(1):N0} + fc {FcFlops:N0} = {FlopsPerSample:N0} FLOP per sample " +
        $"(28 steps; per step and layer 2 x {Gates}H x (in + H) for the input and recurrent products; gate nonlinearities not counted)");

    public string TrainingFlopsBreakdown => string.Create(
        CultureInfo.InvariantCulture,
        $"{TrainingFlopsPerSample:N0} FLOP per sample (forward {FlopsPerSample:N0} + weight gradients {FlopsPerSample:N0} + input gradients " +
        $"{FlopsPerSample - (2L * Steps * Gates * Hidden * Features):N0}, all but layer 0's input projection; " +
        $"gate and loss gradients and the optimizer update not counted)");

    /// <summary>
    /// Bytes of recurrent weights a batch-1 forward pass reads: every step of every layer multiplies the hidden
    /// state by <c>weight_hh</c> (gates x H x H floats), which no blocking over time can reuse.
    /// </summary>
    public long StreamedBytesPerCall => (long)Layers * Steps * Gates * Hidden * Hidden * sizeof(float);

    /// <summary>
    /// FLOP of one sample's input projections (per layer and step 2 x gates x H x in): compute-bound work that streams
    /// nothing from L2, which the streaming target takes out of the call at its least possible time (at the FMA peak).
    /// </summary>
    public long InputProjectionFlopsPerSample => Enumerable.Range(0, Layers).Sum(k => 2L * Steps * Gates * Hidden * (k == 0 ? Features : Hidden));

    public string StreamedBytesBreakdown => string.Create(
        CultureInfo.InvariantCulture,
        $"{Layers} layers x {Steps} steps x {Gates} x {Hidden} x {Hidden} x 4 bytes = {StreamedBytesPerCall:N0} bytes of weight_hh per call " +
        $"({Gates * Hidden * Hidden * sizeof(float) / 1024} KiB per layer and step)");

    /// <summary>PyTorch's default initialization: every recurrent tensor uniform in +-1/sqrt(H); fc +-1/sqrt(128).</summary>
    public Dictionary<string, float[]> RandomParameters(int seed)
    {
        var rng = new SeededRandom((ulong)(uint)seed);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        float bound = 1f / MathF.Sqrt(Hidden);
        foreach ((string name, int[] shape) in Parameters)
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = rng.NextUniform(-bound, bound);
            }

            result.Add(name, values);
        }

        return result;
    }
}
