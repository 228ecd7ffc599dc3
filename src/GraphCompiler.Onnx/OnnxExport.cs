using Google.Protobuf;
using Onnx;

namespace GraphCompiler.Onnx;

/// <summary>
/// Writes a generated model, graph and weights, as a standard ONNX model (opset 13, or 17 when the graph has a
/// LayerNorm, for LayerNormalization; default domain only),
/// which opens in Netron and runs in ONNX Runtime. The graph comes from the model's generated
/// <c>Graph</c> description (the declaration before fusion, in PyTorch's terms); the weights from its
/// parameters, in PyTorch's layouts, which are ONNX's too (an LSTM's or GRU's weights are rearranged into ONNX's gate
/// order by nodes of the graph, so the initializers keep PyTorch's names and values). The batch is a symbolic
/// dimension "N". A token model (a Transformer) takes its token inputs as int64 [N, length] tensors, PyTorch's
/// index type; its attention is written out in MatMul, Softmax and masks (see <see cref="TransformerExport"/>).
/// </summary>
/// <example><c>OnnxExport.Save(MnistCnn.Graph, model.Parameters, "mnist.onnx");</c></example>
public static class OnnxExport
{
    /// <summary>Builds the ONNX model.</summary>
    public static ModelProto ToModel(GraphDescription graph, ParameterSet parameters, string name = "model")
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(parameters);
        int opset = graph.Nodes.Any(n => n.Op == "LayerNorm") ? 17 : 13;
        var builder = new OnnxGraphBuilder(name, opset);
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (graph.TokenInputs is { Length: > 0 } tokens)
        {
            foreach (GraphInput token in tokens)
            {
                builder.TokenInput(token.Name, Dims(token.Shape));
                shapes[token.Name] = token.Shape;
            }
        }
        else
        {
            builder.Input(graph.Input, Dims(graph.InputShape));
            shapes[graph.Input] = graph.InputShape;
        }

        foreach (ParameterInfo p in parameters.Layout)
        {
            builder.Initializer(p.Name, parameters.Read(p.Name), p.Shape.Select(d => (long)d).ToArray());
        }

        var recurrent = new RecurrentExport(builder);
        var transformer = new TransformerExport(builder, shapes);
        foreach (GraphNode node in graph.Nodes)
        {
            shapes[node.Output] = node.Shape;
            if (TransformerExport.Handles(node.Op))
            {
                transformer.Add(node);
            }
            else
            {
                Add(builder, recurrent, node, node.Output);
            }
        }

        builder.Output(graph.Output, Dims(graph.OutputShape));
        return builder.Build();
    }

    /// <summary>Writes the ONNX model to <paramref name="path"/> (through a temporary file, so a failed write keeps an older file).</summary>
    public static void Save(GraphDescription graph, ParameterSet parameters, string path, string name = "model")
    {
        byte[] bytes = ToModel(graph, parameters, name).ToByteArray();
        string temporary = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    private static object[] Dims(int[] sampleShape) => new object[] { "N" }.Concat(sampleShape.Cast<object>()).ToArray();

    private static void Add(OnnxGraphBuilder b, RecurrentExport recurrent, GraphNode node, string output)
    {
        int[] a = node.Attributes;
        string x = node.Inputs[0];
        string Weight() => node.Layer + ".weight";
        string? Bias(bool has) => has ? node.Layer + ".bias" : null;
        switch (node.Op)
        {
            case "Conv2d":
                b.Conv(x, Weight(), Bias(a[4] != 0), kernel: a[0], padding: a[2], stride: a[1], dilation: a[3], output: output);
                break;
            case "MaxPool2d":
                b.MaxPool(x, a[0], a[1], a[2], output);
                break;
            case "AvgPool2d":
                b.AveragePool(x, a[0], a[1], a[2], countIncludePad: true, output);
                break;
            case "Linear" when node.Shape.Length > 1:
                // On the rows of [N, ..., in] (a Transformer's [N, L, E]): Gemm takes only matrices.
                TransformerExport.LinearRows(b, x, Weight(), Bias(a[2] != 0), output);
                break;
            case "Linear":
                b.Linear(x, Weight(), Bias(a[2] != 0), output);
                break;
            case "Relu":
                b.Relu(x, output);
                break;
            case "Tanh":
                b.Tanh(x, output);
                break;
            case "Sigmoid":
                b.Sigmoid(x, output);
                break;
            case "Softmax":
                b.Softmax(x, a[0], output);
                break;
            case "LogSoftmax":
                b.LogSoftmax(x, a[0], output);
                break;
            case "Flatten":
                b.Flatten(x, 1, output);
                break;
            case "Reshape":
                b.Reshape(x, a.Select(d => (long)d).ToArray(), output);
                break;
            case "Add":
                b.Add(x, node.Inputs[1], output);
                break;
            case "Mul":
                b.Mul(x, node.Inputs[1], output);
                break;
            case "LSTM":
            case "GRU":
                recurrent.Layer(node);
                break;
            case "RecurrentState":
                recurrent.State(node);
                break;
            case "Select":
                b.Select(x, a[0], a[1], output);
                break;
            default:
                throw new NotSupportedException($"ONNX export does not know the op '{node.Op}' (node {node.Output}).");
        }
    }
}
