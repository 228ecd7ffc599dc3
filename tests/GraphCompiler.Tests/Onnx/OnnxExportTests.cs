using Google.Protobuf;
using GraphCompiler.Onnx;
using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace GraphCompiler.Tests.Onnx;

/// <summary>Every test model exported to ONNX and run in ONNX Runtime gives the generated Forward's output.</summary>
public class OnnxExportTests
{
    private static void Check(GraphDescription graph, ParameterSet parameters, int inputSize, int outputSize, Action<float[], float[]> forward, int batch = 3)
    {
        byte[] bytes = OnnxExport.ToModel(graph, parameters).ToByteArray();
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, options);

        float[] x = TestData.Random(batch * inputSize, seed: 17);
        var expected = new float[batch * outputSize];
        forward(x, expected);

        int[] dims = new[] { batch }.Concat(graph.InputShape).ToArray();
        var input = new DenseTensor<float>(x, dims);
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(graph.Input, input) });
        float[] actual = results.Single(r => r.Name == graph.Output).AsEnumerable<float>().ToArray();
        Close.Assert(expected, actual, 1e-4, 1e-5, "ONNX Runtime vs generated Forward");
    }

    [Fact]
    public void SeedCnn_runs_in_OnnxRuntime()
    {
        var m = new SeedCnn(maxBatch: 3, seed: 1);
        Check(SeedCnn.Graph, m.Parameters, SeedCnn.InputSize, SeedCnn.OutputSize, (x, y) => m.Forward(x, y));
    }

    [Fact]
    public void StridedDilatedConv_runs_in_OnnxRuntime()
    {
        var m = new StridedDilatedConv(maxBatch: 3, seed: 2);
        Check(StridedDilatedConv.Graph, m.Parameters, StridedDilatedConv.InputSize, StridedDilatedConv.OutputSize, (x, y) => m.Forward(x, y));
    }

    [Fact]
    public void PoolingMix_runs_in_OnnxRuntime()
    {
        var m = new PoolingMix(maxBatch: 3, seed: 3);
        Check(PoolingMix.Graph, m.Parameters, PoolingMix.InputSize, PoolingMix.OutputSize, (x, y) => m.Forward(x, y));
    }

    [Fact]
    public void FusedPools_runs_in_OnnxRuntime()
    {
        var m = new FusedPools(maxBatch: 3, seed: 4);
        Check(FusedPools.Graph, m.Parameters, FusedPools.InputSize, FusedPools.OutputSize, (x, y) => m.Forward(x, y));
    }

    [Fact]
    public void ElementwiseAndReshape_runs_in_OnnxRuntime()
    {
        var m = new ElementwiseAndReshape(maxBatch: 3, seed: 5);
        Check(ElementwiseAndReshape.Graph, m.Parameters, ElementwiseAndReshape.InputSize, ElementwiseAndReshape.OutputSize, (x, y) => m.Forward(x, y));
    }

    [Theory]
    [InlineData("LstmClassifier")]
    [InlineData("LstmFinalStates")]
    [InlineData("LstmInitialStates")]
    [InlineData("LstmDeepNoBias")]
    [InlineData("GruClassifier")]
    [InlineData("GruInitialState")]
    [InlineData("GruSequenceNoBias")]
    [InlineData("SeedRnn")]
    public void Recurrent_model_runs_in_OnnxRuntime(string name)
    {
        ICompiledModel m = RecurrentModels.Create(name, maxBatch: 3, seed: 6);
        Check(RecurrentModels.Graph(name), m.Parameters, m.InputLength, m.OutputLength, (x, y) => m.Forward(x, y));
    }

    [Fact]
    public void Export_uses_opset_13_standard_ops_and_pytorch_names()
    {
        var m = new SeedCnn(seed: 1);
        var model = OnnxExport.ToModel(SeedCnn.Graph, m.Parameters);
        Assert.Equal(13, model.OpsetImport.Single().Version);
        Assert.All(model.Graph.Node, n => Assert.Equal("", n.Domain));
        Assert.Contains(model.Graph.Initializer, t => t.Name == "fc1.weight" && t.Dims.SequenceEqual(new long[] { 128, 3136 }));
        Assert.Equal(new[] { "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm" }, model.Graph.Node.Select(n => n.OpType));
    }
}
