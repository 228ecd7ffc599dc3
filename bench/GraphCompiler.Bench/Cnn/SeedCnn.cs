using GraphCompiler;

namespace GraphCompiler.Bench.Cnn;

/// <summary>
/// The seed's MNIST CNN: shapes, parameter layout (PyTorch <c>state_dict</c> names and layouts) and its
/// cost. conv1 1->32 3x3 pad 1, ReLU, max-pool 2 -> conv2 32->64 3x3 pad 1, ReLU, max-pool 2 ->
/// flatten (64*7*7) -> fc1 3136->128, ReLU -> fc2 128->10.
/// </summary>
public static class SeedCnn
{
    public const int InChannels = 1, Height = 28, Width = 28;
    public const int C1 = 32, C2 = 64, Kernel = 3, Padding = 1, Pool = 2;
    public const int H1 = Height, W1 = Width;                // conv1 output (same padding)
    public const int H1p = H1 / Pool, W1p = W1 / Pool;       // 14x14 after the first pool
    public const int H2 = H1p, W2 = W1p;                     // conv2 output
    public const int H2p = H2 / Pool, W2p = W2 / Pool;       // 7x7 after the second pool
    public const int Flat = C2 * H2p * W2p;                  // 3136
    public const int Hidden = 128, Classes = 10;
    public const int InputSize = InChannels * Height * Width; // 784
    public const int OutputSize = Classes;

    /// <summary>Parameter names and PyTorch shapes, in declaration order.</summary>
    public static readonly IReadOnlyList<(string Name, int[] Shape)> Parameters =
    [
        ("conv1.weight", [C1, InChannels, Kernel, Kernel]),
        ("conv1.bias", [C1]),
        ("conv2.weight", [C2, C1, Kernel, Kernel]),
        ("conv2.bias", [C2]),
        ("fc1.weight", [Hidden, Flat]),
        ("fc1.bias", [Hidden]),
        ("fc2.weight", [Classes, Hidden]),
        ("fc2.bias", [Classes]),
    ];

    /// <summary>
    /// Floating-point operations of one image's forward pass: 2 per multiply-accumulate of the two
    /// convolutions and the two linear layers. Bias adds, ReLUs and pooling comparisons are not counted
    /// (they are <see cref="ElementwiseOpsPerImage"/>, about 1% more).
    /// </summary>
    public static long FlopsPerImage =>
        ConvFlops(InChannels, C1, H1, W1) + ConvFlops(C1, C2, H2, W2) + LinearFlops(Flat, Hidden) + LinearFlops(Hidden, Classes);

    /// <summary>
    /// Floating-point operations of one image's training step, by the convention of these benchmarks: the
    /// forward pass, the weight gradients of every layer (as many multiply-accumulates as its forward pass)
    /// and the input gradients of every layer but conv1 (the image needs none, and neither engine computes
    /// it): 3 x <see cref="FlopsPerImage"/> minus conv1's forward cost, about 2.95 x the forward pass. The
    /// loss, the bias gradients, the ReLU and pooling gradients and the optimizer update are not counted.
    /// </summary>
    public static long TrainingFlopsPerImage => (3 * FlopsPerImage) - ConvFlops(InChannels, C1, H1, W1);

    /// <summary><see cref="TrainingFlopsPerImage"/> spelled out for printing.</summary>
    public static string TrainingFlopsBreakdown =>
        $"{TrainingFlopsPerImage:N0} FLOP per image (forward {FlopsPerImage:N0} + weight gradients {FlopsPerImage:N0} + " +
        $"input gradients of conv2, fc1 and fc2 {FlopsPerImage - ConvFlops(InChannels, C1, H1, W1):N0}; " +
        "loss, bias/ReLU/pool gradients and the optimizer update not counted)";

    /// <summary>Bias adds, ReLUs and pooling comparisons of one image (not counted in the GFLOP/s figures).</summary>
    public static long ElementwiseOpsPerImage =>
        (2L * C1 * H1 * W1) + (3L * C1 * H1p * W1p) + (2L * C2 * H2 * W2) + (3L * C2 * H2p * W2p) + (2L * Hidden) + Classes;

    /// <summary>A breakdown of <see cref="FlopsPerImage"/> for printing.</summary>
    public static string FlopsBreakdown =>
        $"conv1 {ConvFlops(InChannels, C1, H1, W1):N0} + conv2 {ConvFlops(C1, C2, H2, W2):N0} + " +
        $"fc1 {LinearFlops(Flat, Hidden):N0} + fc2 {LinearFlops(Hidden, Classes):N0} = {FlopsPerImage:N0} FLOP per image " +
        $"(2 per multiply-accumulate; bias, ReLU and pooling, {ElementwiseOpsPerImage:N0} ops, not counted)";

    private static long ConvFlops(int inC, int outC, int h, int w) => 2L * outC * h * w * inC * Kernel * Kernel;

    private static long LinearFlops(int inF, int outF) => 2L * inF * outF;

    /// <summary>
    /// Random parameters like PyTorch's defaults: uniform in +-1/sqrt(fan_in) for weights and biases
    /// (kaiming-uniform with a = sqrt(5) gives the same bound for the weights).
    /// </summary>
    public static Dictionary<string, float[]> RandomParameters(int seed)
    {
        var rng = new SeededRandom((ulong)(uint)seed);
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        int fanIn = 0;
        foreach ((string name, int[] shape) in Parameters)
        {
            int length = shape.Aggregate(1, (a, b) => a * b);
            if (name.EndsWith(".weight", StringComparison.Ordinal))
            {
                fanIn = length / shape[0]; // the bias that follows uses its weight's fan-in
            }

            float bound = 1f / MathF.Sqrt(fanIn);
            var values = new float[length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = rng.NextUniform(-bound, bound);
            }

            result.Add(name, values);
        }

        return result;
    }

    /// <summary>A random batch of 28x28 images with pixels uniform in [0, 1), NCHW.</summary>
    public static float[] RandomInput(int batch, int seed)
    {
        var rng = new SeededRandom((ulong)(uint)seed + 0x5EED);
        var x = new float[batch * InputSize];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextFloat();
        }

        return x;
    }

    /// <summary>Seeded class labels in [0, <see cref="Classes"/>) for a training batch.</summary>
    public static int[] RandomLabels(int batch, int seed)
    {
        var rng = new SeededRandom((ulong)(uint)seed + 0x1ABE1);
        var labels = new int[batch];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = rng.NextInt(Classes);
        }

        return labels;
    }

    /// <summary>Checks that a name-to-values map has every parameter with the right length.</summary>
    public static void Validate(IReadOnlyDictionary<string, float[]> parameters)
    {
        foreach ((string name, int[] shape) in Parameters)
        {
            int length = shape.Aggregate(1, (a, b) => a * b);
            if (!parameters.TryGetValue(name, out float[]? values))
            {
                throw new ArgumentException($"Missing parameter '{name}' [{string.Join(", ", shape)}].", nameof(parameters));
            }

            if (values.Length != length)
            {
                throw new ArgumentException(
                    $"Parameter '{name}' has {values.Length} values; its shape [{string.Join(", ", shape)}] needs {length}.",
                    nameof(parameters));
            }
        }
    }
}
