using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace GraphCompiler.Onnx;

/// <summary>
/// A small builder of standard ONNX models (default domain, float tensors) on OnnxSharp's protobuf
/// classes: graph inputs and outputs, initializers from float spans, and one helper per operator the
/// project's models use. Helpers return the name of the value they produce; pass <c>output:</c> to give
/// it a fixed name (a graph output), else a unique name is made from the operator.
/// </summary>
/// <remarks>
/// Attribute
/// spellings and defaults follow the ONNX operator specification at the opset given to the constructor.
/// </remarks>
public sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    /// <param name="graphName">The graph's name.</param>
    /// <param name="opset">Version of the default ONNX operator set (13 unless there is a reason).</param>
    public OnnxGraphBuilder(string graphName, int opset = 13)
    {
        _graph = new GraphProto { Name = graphName };
        Opset = opset;
    }

    /// <summary>Version of the default operator set the model imports.</summary>
    public int Opset { get; }

    /// <summary>
    /// ONNX IR version written into the model: 8 (ONNX 1.10), which every runtime supporting opset 13
    /// reads.
    /// </summary>
    public long IrVersion { get; init; } = 8;

    // ---- graph interface ------------------------------------------------------------------------

    /// <summary>
    /// A float graph input. Each dimension is an <see cref="int"/> (fixed) or a <see cref="string"/>
    /// (symbolic, e.g. <c>"N"</c> for a dynamic batch).
    /// </summary>
    public string Input(string name, params object[] dims)
    {
        Claim(name);
        _graph.Input.Add(FloatValueInfo(name, dims));
        return name;
    }

    /// <summary>
    /// An int64 graph input (token ids, as PyTorch's <c>LongTensor</c>); dimensions as for <see cref="Input"/>.
    /// </summary>
    public string TokenInput(string name, params object[] dims)
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Int64, dims));
        return name;
    }

    /// <summary>Declares the value <paramref name="name"/> a float graph output of the given dimensions.</summary>
    public string Output(string name, params object[] dims)
    {
        if (!_names.Contains(name))
        {
            throw new InvalidOperationException($"Output '{name}' is not produced by any node or input of the graph.");
        }

        _graph.Output.Add(FloatValueInfo(name, dims));
        return name;
    }

    /// <summary>A float constant (weights) stored in the model, little-endian raw data.</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        long count = 1;
        foreach (long d in dims)
        {
            count *= d;
        }

        if (count != values.Length)
        {
            throw new ArgumentException(
                $"Initializer '{name}': shape [{string.Join(", ", dims)}] holds {count} values, {values.Length} given.",
                nameof(values));
        }

        Claim(name);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        if (BitConverter.IsLittleEndian)
        {
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        }
        else
        {
            tensor.FloatData.AddRange(values.ToArray());
        }

        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 constant (shapes for Reshape, axes).</summary>
    public string Initializer(string name, ReadOnlySpan<long> values, params long[] dims)
    {
        Claim(name);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values.ToArray());
        _graph.Initializer.Add(tensor);
        return name;
    }

    // ---- operators ------------------------------------------------------------------------------

    /// <summary>
    /// 2-D convolution, input [N, C, H, W], weight [M, C/group, kH, kW], optional bias [M]. Square kernel,
    /// symmetric padding and equal strides, as <c>nn.Conv2d</c> with int arguments.
    /// </summary>
    public string Conv(
        string x, string weight, string? bias, int kernel, int padding = 0, int stride = 1, int dilation = 1,
        int group = 1, string? output = null)
    {
        string[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Node(
            "Conv", inputs, output,
            Ints("kernel_shape", kernel, kernel),
            Ints("pads", padding, padding, padding, padding),
            Ints("strides", stride, stride),
            Ints("dilations", dilation, dilation),
            Int("group", group));
    }

    public string Relu(string x, string? output = null) => Node("Relu", [x], output);

    public string Tanh(string x, string? output = null) => Node("Tanh", [x], output);

    public string Sigmoid(string x, string? output = null) => Node("Sigmoid", [x], output);

    /// <summary>2-D max pooling; <paramref name="stride"/> 0 means the kernel size (PyTorch's default).</summary>
    public string MaxPool(string x, int kernel, int stride = 0, int padding = 0, string? output = null) => Node(
        "MaxPool", [x], output,
        Ints("kernel_shape", kernel, kernel),
        Ints("strides", Stride(stride, kernel), Stride(stride, kernel)),
        Ints("pads", padding, padding, padding, padding));

    /// <summary>
    /// 2-D average pooling; <paramref name="stride"/> 0 means the kernel size. PyTorch's
    /// <c>nn.AvgPool2d</c> counts padding by default, ONNX does not: the default here follows PyTorch.
    /// </summary>
    public string AveragePool(
        string x, int kernel, int stride = 0, int padding = 0, bool countIncludePad = true, string? output = null) => Node(
        "AveragePool", [x], output,
        Ints("kernel_shape", kernel, kernel),
        Ints("strides", Stride(stride, kernel), Stride(stride, kernel)),
        Ints("pads", padding, padding, padding, padding),
        Int("count_include_pad", countIncludePad ? 1 : 0));

    /// <summary>Flattens to 2-D: dimensions before <paramref name="axis"/> into the first, the rest into the second.</summary>
    public string Flatten(string x, int axis = 1, string? output = null) => Node("Flatten", [x], output, Int("axis", axis));

    /// <summary>
    /// Y = alpha * A' B' + beta * C. With <c>transB = true</c> and B a PyTorch Linear weight [out, in] this
    /// is <c>nn.Linear</c>.
    /// </summary>
    public string Gemm(
        string a, string b, string? c, bool transA = false, bool transB = false, float alpha = 1f, float beta = 1f,
        string? output = null)
    {
        string[] inputs = c is null ? [a, b] : [a, b, c];
        return Node(
            "Gemm", inputs, output,
            Float("alpha", alpha), Float("beta", beta), Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0));
    }

    /// <summary>
    /// <c>nn.Linear</c> as one Gemm: x [N, in], weight [out, in] (PyTorch layout), bias [out].
    /// </summary>
    public string Linear(string x, string weight, string? bias, string? output = null) =>
        Gemm(x, weight, bias, transB: true, output: output);

    public string MatMul(string a, string b, string? output = null) => Node("MatMul", [a, b], output);

    /// <summary>Softmax over <paramref name="axis"/> (opset 13 semantics: one axis).</summary>
    public string Softmax(string x, int axis = -1, string? output = null) => Node("Softmax", [x], output, Int("axis", axis));

    /// <summary>Log-softmax over <paramref name="axis"/> (opset 13 semantics: one axis).</summary>
    public string LogSoftmax(string x, int axis = -1, string? output = null) =>
        Node("LogSoftmax", [x], output, Int("axis", axis));

    /// <summary>Element-wise sum with numpy broadcasting.</summary>
    public string Add(string a, string b, string? output = null) => Node("Add", [a, b], output);

    /// <summary>Element-wise product with numpy broadcasting.</summary>
    public string Mul(string a, string b, string? output = null) => Node("Mul", [a, b], output);

    /// <summary>Reshape to a constant shape (an int64 initializer is added for it).</summary>
    public string Reshape(string x, long[] shape, string? output = null)
    {
        string shapeName = Unique("shape");
        Initializer(shapeName, shape, shape.Length);
        return Node("Reshape", [x, shapeName], output);
    }

    /// <summary>A float scalar constant (an initializer of shape []), named from <paramref name="stem"/>.</summary>
    public string FloatConstant(string stem, float value)
    {
        string name = Unique(stem);
        Initializer(name, new[] { value });
        return name;
    }

    /// <summary>An int64 scalar constant (an initializer of shape []), named from <paramref name="stem"/>.</summary>
    public string Int64Scalar(string stem, long value)
    {
        string name = Unique(stem);
        Initializer(name, new[] { value });
        return name;
    }

    /// <summary>A float constant of any shape (a table, a mask), named from <paramref name="stem"/>.</summary>
    public string FloatConstant(string stem, ReadOnlySpan<float> values, params long[] dims)
    {
        string name = Unique(stem);
        Initializer(name, values, dims);
        return name;
    }

    /// <summary>Rows of <paramref name="table"/> picked by the int64 <paramref name="indices"/> (<c>nn.Embedding</c>): Gather on axis 0.</summary>
    public string Gather(string table, string indices, string? output = null) => Node("Gather", [table, indices], output, Int("axis", 0));

    /// <summary>The input unchanged (Dropout in inference).</summary>
    public string Identity(string x, string? output = null) => Node("Identity", [x], output);

    /// <summary>
    /// Layer normalization over the last axis with scale and bias (opset 17's LayerNormalization, as
    /// <c>nn.LayerNorm(size)</c>).
    /// </summary>
    public string LayerNormalization(string x, string scale, string? bias, float epsilon, string? output = null)
    {
        if (Opset < 17)
        {
            throw new InvalidOperationException($"LayerNormalization needs opset 17; this graph imports opset {Opset}.");
        }

        string[] inputs = bias is null ? [x, scale] : [x, scale, bias];
        return Node("LayerNormalization", inputs, output, Int("axis", -1), Float("epsilon", epsilon));
    }

    /// <summary>Permutes the dimensions: output dimension i is input dimension <paramref name="perm"/>[i].</summary>
    public string Transpose(string x, long[] perm, string? output = null) => Node("Transpose", [x], output, Ints("perm", perm));

    /// <summary>Joins tensors along <paramref name="axis"/>.</summary>
    public string Concat(IReadOnlyList<string> inputs, int axis, string? output = null) =>
        Node("Concat", inputs, output, Int("axis", axis));

    /// <summary>Removes the given size-1 dimensions (opset 13: the axes are an int64 input).</summary>
    public string Squeeze(string x, long[] axes, string? output = null) => Node("Squeeze", [x, Int64Constant("axes", axes)], output);

    /// <summary>Inserts size-1 dimensions at the given axes of the output (opset 13: the axes are an int64 input).</summary>
    public string Unsqueeze(string x, long[] axes, string? output = null) =>
        Node("Unsqueeze", [x, Int64Constant("axes", axes)], output);

    /// <summary>Entries <paramref name="start"/> to <paramref name="end"/> (exclusive) of one axis, step 1.</summary>
    public string Slice(string x, int axis, long start, long end, string? output = null) => Node(
        "Slice", [x, Int64Constant("starts", [start]), Int64Constant("ends", [end]), Int64Constant("axes", [axis])], output);

    /// <summary>
    /// Entry <paramref name="index"/> of dimension <paramref name="axis"/>, which is dropped (Gather with a scalar
    /// index): <c>torch.select(x, axis, index)</c>.
    /// </summary>
    public string Select(string x, int axis, long index, string? output = null)
    {
        string indexName = Unique("index");
        Initializer(indexName, new long[] { index });
        return Node("Gather", [x, indexName], output, Int("axis", axis));
    }

    /// <summary>Cuts <paramref name="x"/> into <paramref name="parts"/> equal pieces along <paramref name="axis"/>.</summary>
    public string[] Split(string x, int axis, int parts) =>
        Node("Split", [x], Enumerable.Repeat<string?>(null, parts).ToArray(), Int("axis", axis));

    /// <summary>
    /// ONNX LSTM, forward direction, sequence-major: X [T, N, I], W [1, 4H, I], R [1, 4H, H], B [1, 8H] or null,
    /// initial states [1, N, H] or null; gates in ONNX's order i, o, f, c. Returns Y [T, 1, N, H], Y_h and Y_c
    /// [1, N, H].
    /// </summary>
    public (string Y, string Yh, string Yc) Lstm(string x, string w, string r, string? b, int hiddenSize, string? initialH = null, string? initialC = null)
    {
        string[] outputs = Node(
            "LSTM", [x, w, r, b ?? "", "", initialH ?? "", initialC ?? ""], [null, null, null], Int("hidden_size", hiddenSize));
        return (outputs[0], outputs[1], outputs[2]);
    }

    /// <summary>
    /// ONNX GRU, forward direction, sequence-major, gates in ONNX's order z, r, h. With
    /// <paramref name="linearBeforeReset"/> (PyTorch's semantics) the reset gate multiplies the recurrent
    /// product after its bias is added. Returns Y [T, 1, N, H] and Y_h [1, N, H].
    /// </summary>
    public (string Y, string Yh) Gru(string x, string w, string r, string? b, int hiddenSize, string? initialH = null, bool linearBeforeReset = true)
    {
        string[] outputs = Node(
            "GRU", [x, w, r, b ?? "", "", initialH ?? ""], [null, null],
            Int("hidden_size", hiddenSize), Int("linear_before_reset", linearBeforeReset ? 1 : 0));
        return (outputs[0], outputs[1]);
    }

    /// <summary>
    /// Any operator of the default domain with one output. Use it for operators without a helper; the
    /// attributes are made with <see cref="Int"/>, <see cref="Ints"/>, <see cref="Float"/>.
    /// </summary>
    public string Node(string opType, IReadOnlyList<string> inputs, string? output, params AttributeProto[] attributes) =>
        Node(opType, inputs, [output], attributes)[0];

    /// <summary>
    /// Any operator of the default domain with several outputs: one name per entry of <paramref name="outputs"/>,
    /// each fixed or (null) made unique from the operator. An empty optional input is written as "".
    /// </summary>
    public string[] Node(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string?> outputs, params AttributeProto[] attributes)
    {
        foreach (string input in inputs)
        {
            if (input.Length != 0 && !_names.Contains(input))
            {
                throw new InvalidOperationException($"{opType}: input '{input}' is not defined yet.");
            }
        }

        // Trailing empty optional inputs are left out, as the specification allows.
        int count = inputs.Count;
        while (count > 0 && inputs[count - 1].Length == 0)
        {
            count--;
        }

        var names = new string[outputs.Count];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = outputs[i] ?? Unique(opType.ToLowerInvariant());
            Claim(names[i]);
        }

        var node = new NodeProto { OpType = opType, Name = opType + "_" + _graph.Node.Count };
        node.Input.AddRange(inputs.Take(count));
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    // ---- model ----------------------------------------------------------------------------------

    /// <summary>The model: this graph with the opset import and producer fields.</summary>
    public ModelProto Build(string producerName = "GraphCompiler", string producerVersion = "0.1")
    {
        if (_graph.Output.Count == 0)
        {
            throw new InvalidOperationException("The graph has no output: call Output(name, dims) first.");
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = producerName,
            ProducerVersion = producerVersion,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    /// <summary>The serialized model (what <c>InferenceSession(byte[])</c> takes).</summary>
    public byte[] ToBytes(string producerName = "GraphCompiler") => Build(producerName).ToByteArray();

    /// <summary>Writes the model to an <c>.onnx</c> file.</summary>
    public void Save(string path, string producerName = "GraphCompiler") =>
        File.WriteAllBytes(path, ToBytes(producerName));

    private string Int64Constant(string stem, long[] values)
    {
        string name = Unique(stem);
        Initializer(name, values, values.Length);
        return name;
    }

    private static int Stride(int stride, int kernel) => stride == 0 ? kernel : stride;

    private static ValueInfoProto FloatValueInfo(string name, object[] dims) => ValueInfo(name, TensorProto.Types.DataType.Float, dims);

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d switch
            {
                int value => new TensorShapeProto.Types.Dimension { DimValue = value },
                long value => new TensorShapeProto.Types.Dimension { DimValue = value },
                string param => new TensorShapeProto.Types.Dimension { DimParam = param },
                _ => throw new ArgumentException($"Dimension '{d}' of '{name}' is neither a number nor a symbolic name.", nameof(dims)),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape },
            },
        };
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The name '{name}' is already used in the graph.");
        }
    }

    private string Unique(string stem)
    {
        while (true)
        {
            int n = _counters.TryGetValue(stem, out int c) ? c : 0;
            _counters[stem] = n + 1;
            string name = stem + "_" + n;
            if (!_names.Contains(name))
            {
                return name;
            }
        }
    }
}
