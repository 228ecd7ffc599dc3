using GraphCompiler.Onnx;
using GraphCompiler.Bench.Cnn;
using static GraphCompiler.Bench.Cnn.SeedCnn;

namespace GraphCompiler.Bench.Onnx;

/// <summary>
/// Exports the seed CNN as a standard opset-13 ONNX model: input "input" [N, 1, 28, 28] (dynamic batch),
/// Conv(pad 1) -> Relu -> MaxPool(2, 2) -> Conv(pad 1) -> Relu -> MaxPool(2, 2) -> Flatten(axis 1) ->
/// Gemm(transB) -> Relu -> Gemm(transB) -> "output" [N, 10]. The same graph <c>torch.onnx.export</c> writes.
/// </summary>
public static class CnnOnnx
{
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>The model from parameters in PyTorch layouts, keyed by <c>state_dict</c> name.</summary>
    public static OnnxGraphBuilder Build(IReadOnlyDictionary<string, float[]> p)
    {
        SeedCnn.Validate(p);
        var g = new OnnxGraphBuilder("seed_cnn", opset: 13);
        string x = g.Input(InputName, "N", InChannels, Height, Width);
        foreach ((string name, int[] shape) in SeedCnn.Parameters)
        {
            g.Initializer(name, p[name], shape.Select(d => (long)d).ToArray());
        }

        x = g.Conv(x, "conv1.weight", "conv1.bias", Kernel, Padding);
        x = g.Relu(x);
        x = g.MaxPool(x, Pool, Pool);
        x = g.Conv(x, "conv2.weight", "conv2.bias", Kernel, Padding);
        x = g.Relu(x);
        x = g.MaxPool(x, Pool, Pool);
        x = g.Flatten(x, axis: 1);
        x = g.Linear(x, "fc1.weight", "fc1.bias");
        x = g.Relu(x);
        g.Linear(x, "fc2.weight", "fc2.bias", output: OutputName);
        g.Output(OutputName, "N", Classes);
        return g;
    }

    /// <summary>The serialized model.</summary>
    public static byte[] ToBytes(IReadOnlyDictionary<string, float[]> parameters) => Build(parameters).ToBytes();
}
