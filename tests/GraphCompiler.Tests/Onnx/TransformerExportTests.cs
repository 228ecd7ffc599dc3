using Google.Protobuf;
using GraphCompiler.Onnx;
using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace GraphCompiler.Tests.Onnx;

/// <summary>
/// Token models (TinyTransformer and the benchmarks' seed-size Transformer) exported to ONNX and run in ONNX
/// Runtime on padded int64 token batches give the generated Forward's log-probabilities.
/// </summary>
public class TransformerExportTests
{
    /// <summary>
    /// Token batches: each sample's tail padded (token 0) by a different amount, position 0 never padding (so no
    /// attention row is fully masked); the target starts with token 1.
    /// </summary>
    private static int[] Tokens(int batch, int length, int vocabulary, int seed, bool start)
    {
        var random = new Random(seed);
        var tokens = new int[batch * length];
        for (int n = 0; n < batch; n++)
        {
            int used = Math.Max(1, length - (n * 3 % length));
            for (int i = 0; i < used; i++)
            {
                tokens[n * length + i] = start && i == 0 ? 1 : random.Next(1, vocabulary);
            }
        }

        return tokens;
    }

    private static void Check(
        GraphDescription graph, ParameterSet parameters, int vocabulary, int batch,
        Action<int[], int[], float[]> forward)
    {
        GraphInput[] inputs = graph.TokenInputs!;
        Assert.Equal(2, inputs.Length);
        int srcLength = inputs[0].Shape[0], tgtLength = inputs[1].Shape[0];
        int[] src = Tokens(batch, srcLength, vocabulary, seed: 11, start: false);
        int[] tgt = Tokens(batch, tgtLength, vocabulary, seed: 12, start: true);
        int outputSize = graph.OutputShape.Aggregate(1, (p, d) => p * d);
        var expected = new float[batch * outputSize];
        forward(src, tgt, expected);

        byte[] bytes = OnnxExport.ToModel(graph, parameters).ToByteArray();
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, options);
        var feeds = new[]
        {
            NamedOnnxValue.CreateFromTensor(inputs[0].Name, new DenseTensor<long>(src.Select(t => (long)t).ToArray(), [batch, srcLength])),
            NamedOnnxValue.CreateFromTensor(inputs[1].Name, new DenseTensor<long>(tgt.Select(t => (long)t).ToArray(), [batch, tgtLength])),
        };
        using var results = session.Run(feeds);
        var value = results.Single(r => r.Name == graph.Output).AsTensor<float>();
        Assert.Equal(new[] { batch }.Concat(graph.OutputShape), value.Dimensions.ToArray());
        Close.Assert(expected, value.ToArray(), 1e-4, 1e-4, "ONNX Runtime vs generated Forward");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void TinyTransformer_runs_in_OnnxRuntime(int batch)
    {
        var m = new TinyTransformer(batch, seed: 7);
        Check(TinyTransformer.Graph, m.Parameters, vocabulary: 11, batch, (s, t, y) => m.Forward(s, t, y));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void SeedTransformer_runs_in_OnnxRuntime(int batch)
    {
        var m = new SeedTransformer(batch, seed: 8);
        Check(SeedTransformer.Graph, m.Parameters, vocabulary: 48, batch, (s, t, y) => m.Forward(s, t, y));
    }

    [Fact]
    public void Transformer_export_has_int64_token_inputs_a_dynamic_batch_and_standard_ops()
    {
        var m = new TinyTransformer(seed: 1);
        var model = OnnxExport.ToModel(TinyTransformer.Graph, m.Parameters);
        Assert.Equal(17, model.OpsetImport.Single().Version);
        Assert.All(model.Graph.Node, n => Assert.Equal("", n.Domain));
        Assert.Equal(new[] { "src", "tgt" }, model.Graph.Input.Select(i => i.Name));
        Assert.All(model.Graph.Input, i =>
        {
            Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Int64, i.Type.TensorType.ElemType);
            Assert.Equal("N", i.Type.TensorType.Shape.Dim[0].DimParam);
        });
        Assert.Contains(model.Graph.Initializer, t => t.Name == "transformer.encoder.layers.0.self_attn.in_proj_weight" && t.Dims.SequenceEqual(new long[] { 48, 16 }));
        string[] ops = model.Graph.Node.Select(n => n.OpType).Distinct().ToArray();
        Assert.Contains("LayerNormalization", ops);
        Assert.Contains("Gather", ops);
        Assert.Contains("Softmax", ops);
        Assert.Equal("LogSoftmax", model.Graph.Node.Last().OpType);
    }

    [Fact]
    public void Dropout_and_gelu_export_as_identity_and_erf()
    {
        var m = new TinyTransformerDropout(3, seed: 4);
        Check(TinyTransformerDropout.Graph, m.Parameters, vocabulary: 11, batch: 3, (s, t, y) => m.Forward(s, t, y));
        var model = OnnxExport.ToModel(TinyTransformerDropout.Graph, m.Parameters);
        Assert.Contains(model.Graph.Node, n => n.OpType == "Identity");
        Assert.Contains(model.Graph.Node, n => n.OpType == "Erf");
    }
}
