using Google.Protobuf;
using GraphCompiler.Onnx;
using GraphCompiler.Tests.Reference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using D = GraphCompiler.Tests.Reference.DoubleReference;

namespace GraphCompiler.Tests.Onnx;

/// <summary>
/// The ONNX export of LSTM, GRU, RecurrentState and Select nodes, on graph descriptions built by hand (every
/// combination of layers, bias and initial states), run in ONNX Runtime against the double-precision reference.
/// The initial states are computed from the one input, as a model's forward method does.
/// </summary>
public class RecurrentExportTests
{
    private const int Batch = 3, Steps = 5, InputSize = 4;

    /// <summary>A parameter layout with PyTorch's default bounds, offsets aligned to 16 floats.</summary>
    private static ParameterSet Parameters(int seed, params (string Name, int[] Shape, float Bound)[] tensors)
    {
        var layout = new List<ParameterInfo>();
        int offset = 0;
        foreach (var (name, shape, bound) in tensors)
        {
            var info = new ParameterInfo(name, shape, offset, ParameterInit.Uniform, bound);
            layout.Add(info);
            offset += (info.Length + 15) / 16 * 16;
        }

        return new ParameterSet(layout, seed);
    }

    private static IEnumerable<(string, int[], float)> RecurrentParameters(string layer, int gates, int hidden, int layers, bool bias)
    {
        float bound = 1f / MathF.Sqrt(hidden);
        for (int k = 0; k < layers; k++)
        {
            int width = k == 0 ? InputSize : hidden;
            yield return ($"{layer}.weight_ih_l{k}", [gates * hidden, width], bound);
            yield return ($"{layer}.weight_hh_l{k}", [gates * hidden, hidden], bound);
            if (bias)
            {
                yield return ($"{layer}.bias_ih_l{k}", [gates * hidden], bound);
                yield return ($"{layer}.bias_hh_l{k}", [gates * hidden], bound);
            }
        }
    }

    private static IEnumerable<(string, int[], float)> LinearParameters(string layer, int inFeatures, int outFeatures)
    {
        float bound = 1f / MathF.Sqrt(inFeatures);
        yield return (layer + ".weight", [outFeatures, inFeatures], bound);
        yield return (layer + ".bias", [outFeatures], bound);
    }

    /// <summary>Initial states h0 (and c0) from the input: Reshape(Tanh(init(Flatten(x)))) and Reshape(cinit(Flatten(x))).</summary>
    private static List<GraphNode> StateNodes(int hidden, int layers, bool withC)
    {
        int flat = Steps * InputSize, state = layers * hidden;
        var nodes = new List<GraphNode>
        {
            new("Flatten", null, ["x"], "flat", [flat], []),
            new("Linear", "hinit", ["flat"], "hlin", [state], [flat, state, 1]),
            new("Tanh", null, ["hlin"], "htanh", [state], []),
            new("Reshape", null, ["htanh"], "h0", [layers, hidden], [-1, layers, hidden]),
        };
        if (withC)
        {
            nodes.Add(new("Linear", "cinit", ["flat"], "clin", [state], [flat, state, 1]));
            nodes.Add(new("Reshape", null, ["clin"], "c0", [layers, hidden], [-1, layers, hidden]));
        }

        return nodes;
    }

    /// <summary>The export of <paramref name="nodes"/> with <paramref name="output"/> as the graph's output, run in ONNX Runtime.</summary>
    private static float[] RunExport(List<GraphNode> nodes, ParameterSet parameters, float[] x, string output)
    {
        GraphNode producer = nodes.Single(n => n.Output == output);
        var graph = new GraphDescription("x", [Steps, InputSize], output, producer.Shape, nodes.ToArray());
        byte[] bytes = OnnxExport.ToModel(graph, parameters).ToByteArray();
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, options);
        var input = new DenseTensor<float>(x, [Batch, Steps, InputSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var value = results.Single(r => r.Name == output).AsTensor<float>();
        Assert.Equal(new[] { Batch }.Concat(producer.Shape), value.Dimensions.ToArray());
        return value.ToArray();
    }

    private static void AssertClose(double[] expected, float[] actual, string what) =>
        Close.Assert(expected.Select(v => (float)v).ToArray(), actual, 1e-4, 1e-5, what);

    public static TheoryData<int, bool, bool> Variants => new()
    {
        { 1, true, false },
        { 1, true, true },
        { 1, false, true },
        { 2, true, false },
        { 2, true, true },
        { 3, false, false },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Lstm_sequence_states_and_last_step_match_the_reference(int layers, bool bias, bool initialStates)
    {
        const int hidden = 6;
        var tensors = RecurrentParameters("lstm", 4, hidden, layers, bias).ToList();
        if (initialStates)
        {
            tensors.AddRange(LinearParameters("hinit", Steps * InputSize, layers * hidden));
            tensors.AddRange(LinearParameters("cinit", Steps * InputSize, layers * hidden));
        }

        ParameterSet parameters = Parameters(seed: 40 + layers, tensors.ToArray());
        List<GraphNode> nodes = initialStates ? StateNodes(hidden, layers, withC: true) : [];
        nodes.Add(new("LSTM", "lstm", initialStates ? ["x", "h0", "c0"] : ["x"], "out", [Steps, hidden], [InputSize, hidden, layers, bias ? 1 : 0]));
        nodes.Add(new("RecurrentState", "lstm", ["out"], "hn", [layers, hidden], [0]));
        nodes.Add(new("RecurrentState", "lstm", ["out"], "cn", [layers, hidden], [1]));
        nodes.Add(new("Select", null, ["out"], "last", [hidden], [1, Steps - 1]));
        nodes.Add(new("Select", null, ["out"], "second", [hidden], [1, 1]));

        float[] x = TestData.Random(Batch * Steps * InputSize, seed: 7);
        double[] xd = x.Select(v => (double)v).ToArray();
        double[] P(string name) => parameters.Read(name).ToArray().Select(v => (double)v).ToArray();
        double[]? h0 = null, c0 = null;
        if (initialStates)
        {
            h0 = D.Tanh(D.Linear(xd, Batch, Steps * InputSize, P("hinit.weight"), layers * hidden, P("hinit.bias")));
            c0 = D.Linear(xd, Batch, Steps * InputSize, P("cinit.weight"), layers * hidden, P("cinit.bias"));
        }

        var (sequence, hn, cn) = D.Lstm(xd, Batch, Steps, InputSize, hidden, layers, bias, "lstm", P, h0, c0);
        AssertClose(sequence, RunExport(nodes, parameters, x, "out"), "output sequence");
        AssertClose(hn, RunExport(nodes, parameters, x, "hn"), "h_n");
        AssertClose(cn, RunExport(nodes, parameters, x, "cn"), "c_n");
        AssertClose(D.Select(sequence, Batch, Steps, hidden, Steps - 1), RunExport(nodes, parameters, x, "last"), "last step");
        AssertClose(D.Select(sequence, Batch, Steps, hidden, 1), RunExport(nodes, parameters, x, "second"), "step 1");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Gru_sequence_and_state_match_the_reference(int layers, bool bias, bool initialState)
    {
        const int hidden = 7;
        var tensors = RecurrentParameters("gru", 3, hidden, layers, bias).ToList();
        if (initialState)
        {
            tensors.AddRange(LinearParameters("hinit", Steps * InputSize, layers * hidden));
        }

        ParameterSet parameters = Parameters(seed: 50 + layers, tensors.ToArray());
        List<GraphNode> nodes = initialState ? StateNodes(hidden, layers, withC: false) : [];
        nodes.Add(new("GRU", "gru", initialState ? ["x", "h0"] : ["x"], "out", [Steps, hidden], [InputSize, hidden, layers, bias ? 1 : 0]));
        nodes.Add(new("RecurrentState", "gru", ["out"], "hn", [layers, hidden], [0]));
        nodes.Add(new("Select", null, ["out"], "last", [hidden], [1, Steps - 1]));

        float[] x = TestData.Random(Batch * Steps * InputSize, seed: 8);
        double[] xd = x.Select(v => (double)v).ToArray();
        double[] P(string name) => parameters.Read(name).ToArray().Select(v => (double)v).ToArray();
        double[]? h0 = initialState ? D.Tanh(D.Linear(xd, Batch, Steps * InputSize, P("hinit.weight"), layers * hidden, P("hinit.bias"))) : null;

        var (sequence, hn) = D.Gru(xd, Batch, Steps, InputSize, hidden, layers, bias, "gru", P, h0);
        AssertClose(sequence, RunExport(nodes, parameters, x, "out"), "output sequence");
        AssertClose(hn, RunExport(nodes, parameters, x, "hn"), "h_n");
        AssertClose(D.Select(sequence, Batch, Steps, hidden, Steps - 1), RunExport(nodes, parameters, x, "last"), "last step");
    }

    [Fact]
    public void Recurrent_export_keeps_pytorch_initializers_and_uses_standard_operators()
    {
        ParameterSet parameters = Parameters(seed: 3, RecurrentParameters("lstm", 4, 5, 2, bias: true).ToArray());
        var graph = new GraphDescription("x", [Steps, InputSize], "hn", [2, 5],
        [
            new("LSTM", "lstm", ["x"], "out", [Steps, 5], [InputSize, 5, 2, 1]),
            new("RecurrentState", "lstm", ["out"], "hn", [2, 5], [0]),
        ]);
        var model = OnnxExport.ToModel(graph, parameters);
        Assert.Equal(13, model.OpsetImport.Single().Version);
        Assert.All(model.Graph.Node, n => Assert.Equal("", n.Domain));
        Assert.Contains(model.Graph.Initializer, t => t.Name == "lstm.weight_ih_l0" && t.Dims.SequenceEqual(new long[] { 20, InputSize }));
        Assert.Contains(model.Graph.Initializer, t => t.Name == "lstm.weight_hh_l1" && t.Dims.SequenceEqual(new long[] { 20, 5 }));
        var lstms = model.Graph.Node.Where(n => n.OpType == "LSTM").ToList();
        Assert.Equal(2, lstms.Count);
        Assert.All(lstms, n => Assert.Equal(5, n.Attribute.Single(a => a.Name == "hidden_size").I));
    }

    [Fact]
    public void A_state_of_a_value_that_is_no_recurrent_output_is_refused()
    {
        ParameterSet parameters = Parameters(seed: 3, RecurrentParameters("gru", 3, 5, 1, bias: true).ToArray());
        var graph = new GraphDescription("x", [Steps, InputSize], "cn", [1, 5],
        [
            new("GRU", "gru", ["x"], "out", [Steps, 5], [InputSize, 5, 1, 1]),
            new("RecurrentState", "gru", ["out"], "cn", [1, 5], [1]),
        ]);
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToModel(graph, parameters));
        Assert.Contains("c_n", e.Message);
    }
}
