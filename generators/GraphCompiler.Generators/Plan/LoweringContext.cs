using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Spec;

namespace GraphCompiler.Generators.Plan;

/// <summary>What an op's lowering needs: tensor places, parameter offsets, packed space and kernel names.</summary>
internal sealed class LoweringContext
{
    private readonly ModelPlan _plan;
    private readonly Dictionary<string, (int Weight, int Bias)> _parameters = new();
    private readonly Dictionary<string, int> _offsets = new();
    private readonly HashSet<string> _names = new(Emit.PackEmitter.ReservedNames); // helpers the emitter adds
    private readonly Dictionary<Node, KernelPlan> _forward = new();
    private readonly HashSet<TensorValue> _gradientsWritten = new();
    private readonly HashSet<string> _parameterGradientsWritten = new();

    /// <summary>Arena offset of each sample's dropout seed (see <see cref="ModelGraph.DropoutSeed"/>), or -1.</summary>
    public int DropoutSeedOffset { get; set; } = -1;

    /// <summary>The node being lowered: its forward kernel is recorded for its gradient rule.</summary>
    public Node? Current { get; set; }

    public LoweringContext(ModelPlan plan, IEnumerable<LayerSpec> layers)
    {
        _plan = plan;
        int offset = 0;
        void Add(string name, int[] shape, float bound, string init = "Uniform")
        {
            var parameter = new ParameterPlan(name, shape, offset, init, bound);
            plan.Parameters.Add(parameter);
            _offsets[name] = offset;
            offset = RoundUp(offset + parameter.Length, 16);
        }

        foreach (LayerSpec layer in layers)
        {
            switch (layer.Kind)
            {
                case LayerKind.Conv2d:
                case LayerKind.Linear:
                    {
                        int[] weightShape = layer.Kind == LayerKind.Conv2d
                            ? new[] { layer.Out, layer.In, layer.Kernel, layer.Kernel }
                            : new[] { layer.Out, layer.In };
                        int fanIn = weightShape.Skip(1).Aggregate(1, (a, b) => a * b);
                        float bound = (float)(1.0 / System.Math.Sqrt(fanIn)); // kaiming-uniform with a = sqrt(5) reduces to this
                        Add(layer.Name + ".weight", weightShape, bound);
                        if (layer.Bias)
                        {
                            Add(layer.Name + ".bias", new[] { layer.Out }, bound);
                        }

                        _parameters[layer.Name] = (_offsets[layer.Name + ".weight"], layer.Bias ? _offsets[layer.Name + ".bias"] : -1);
                        break;
                    }

                case LayerKind.Embedding:
                case LayerKind.PositionalEmbedding:
                    Add(layer.Name + ".weight", new[] { layer.In, layer.Out }, 1f, "Normal"); // nn.Embedding: N(0, 1)
                    _parameters[layer.Name] = (_offsets[layer.Name + ".weight"], -1);
                    break;
                case LayerKind.LayerNorm:
                    Add(layer.Name + ".weight", new[] { layer.In }, 0f, "Ones");
                    Add(layer.Name + ".bias", new[] { layer.In }, 0f, "Zeros");
                    _parameters[layer.Name] = (_offsets[layer.Name + ".weight"], _offsets[layer.Name + ".bias"]);
                    break;
                case LayerKind.MultiheadAttention:
                    {
                        // nn.MultiheadAttention: in_proj_weight xavier-uniform, biases zero, out_proj as nn.Linear's weight.
                        int e = layer.In;
                        Add(layer.Name + ".in_proj_weight", new[] { 3 * e, e }, (float)System.Math.Sqrt(6.0 / (e + 3 * e)));
                        if (layer.Bias)
                        {
                            Add(layer.Name + ".in_proj_bias", new[] { 3 * e }, 0f, "Zeros");
                        }

                        Add(layer.Name + ".out_proj.weight", new[] { e, e }, (float)(1.0 / System.Math.Sqrt(e)));
                        if (layer.Bias)
                        {
                            Add(layer.Name + ".out_proj.bias", new[] { e }, 0f, "Zeros");
                        }

                        _parameters[layer.Name] = (_offsets[layer.Name + ".in_proj_weight"], layer.Bias ? _offsets[layer.Name + ".in_proj_bias"] : -1);
                        break;
                    }

                case LayerKind.Lstm:
                case LayerKind.Gru:
                    {
                        // nn.LSTM / nn.GRU: every weight and bias uniform in +-1/sqrt(hidden_size), in state_dict order.
                        int rows = (layer.Kind == LayerKind.Lstm ? 4 : 3) * layer.Out;
                        float bound = (float)(1.0 / System.Math.Sqrt(layer.Out));
                        for (int k = 0; k < layer.NumLayers; k++)
                        {
                            string suffix = "_l" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
                            Add($"{layer.Name}.weight_ih{suffix}", new[] { rows, k == 0 ? layer.In : layer.Out }, bound);
                            Add($"{layer.Name}.weight_hh{suffix}", new[] { rows, layer.Out }, bound);
                            if (layer.Bias)
                            {
                                Add($"{layer.Name}.bias_ih{suffix}", new[] { rows }, bound);
                                Add($"{layer.Name}.bias_hh{suffix}", new[] { rows }, bound);
                            }
                        }

                        break;
                    }
            }
        }

        plan.ParameterFloats = offset;
    }

    /// <summary>The offset of a parameter by its PyTorch name, or -1 when the layer has no such parameter (no bias).</summary>
    public int ParameterOffset(string name) => _offsets.TryGetValue(name, out int offset) ? offset : -1;

    /// <summary>The per-layer plans of each recurrent node, for its gradient rule and its state readers.</summary>
    public Dictionary<Node, List<RecurrentLayerPlan>> RecurrentLayers { get; } = new();

    /// <summary>The plan being built (recurrent lowering adds several kernels per stacked layer).</summary>
    public ModelPlan Plan => _plan;

    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    public int WeightOffset(LayerSpec layer) => _parameters[layer.Name].Weight;

    public int BiasOffset(LayerSpec layer) => _parameters[layer.Name].Bias;

    public TensorPlace Place(TensorValue tensor) => PlaceOf(tensor);

    public static TensorPlace PlaceOf(TensorValue tensor)
    {
        TensorValue root = tensor.Root;
        Storage s = root.Storage;
        return s.Kind == StorageKind.Nhwc
            ? new TensorPlace(StorageKind.Nhwc, s.Offset, root.C, root.H, root.W, s.Pad, s.ChannelStride, s.Floats)
            : new TensorPlace(StorageKind.Flat, s.Offset, root.Elements, 1, 1, 0, root.Elements, s.Floats);
    }

    public void Add(KernelPlan kernel)
    {
        _plan.Kernels.Add(kernel);
        if (Current is not null && !_forward.ContainsKey(Current))
        {
            _forward[Current] = kernel;
        }
    }

    /// <summary>The forward kernel of a node (its geometry serves the gradient kernels).</summary>
    public T ForwardOf<T>(Node node) where T : KernelPlan => (T)_forward[node];

    public void AddTrainingVariant(string forwardName, KernelPlan variant) => _plan.TrainingVariants[forwardName] = variant;

    public void AddGradient(KernelPlan kernel) => _plan.Backward.Add(kernel);

    /// <summary>
    /// Whether a gradient kernel adds to <paramref name="grad"/> (it already has a contribution) or writes
    /// it; backward kernels are lowered in execution order, so the first one writes.
    /// </summary>
    public bool Accumulate(TensorValue grad) => !_gradientsWritten.Add(grad.Root);

    /// <summary>The same for a layer's parameter gradients (a layer called twice adds its second call).</summary>
    public bool AccumulateParameters(LayerSpec layer) => !_parameterGradientsWritten.Add(layer.Name);

    /// <summary>Reserves workspace scratch (64-byte aligned) for a gradient kernel.</summary>
    public int AllocateScratch(int floats)
    {
        int offset = _plan.ScratchFloats;
        _plan.ScratchFloats = RoundUp(offset + floats, 16);
        return offset;
    }

    /// <summary>Reserves space in the packed buffer (64-byte aligned) and records the pack.</summary>
    public void AddPack(PackPlan pack)
    {
        pack.PackedOffset = _plan.PackedFloats;
        _plan.PackedFloats = RoundUp(_plan.PackedFloats + pack.PackedFloats, 16);
        _plan.Packs.Add(pack);
    }

    private readonly Dictionary<(int Rows, int Columns), int> _sinusoidalTables = new();

    /// <summary>
    /// The packed-buffer offset of the sinusoidal positional-encoding table [rows, columns], computed once with the
    /// packed weights and shared by every op (and decoding row) that adds it.
    /// </summary>
    public int SinusoidalTable(int rows, int columns)
    {
        if (!_sinusoidalTables.TryGetValue((rows, columns), out int offset))
        {
            var table = new TablePack
            {
                Comment = $"the sinusoidal positional encoding [{rows}, {columns}] (a constant table)",
                PackedFloats = rows * columns,
                Statement = $"global::GraphCompiler.Kernels.EmbeddingKernel.Sinusoidal(target, {rows}, {columns});",
            };
            AddPack(table);
            offset = _sinusoidalTables[(rows, columns)] = table.PackedOffset;
        }

        return offset;
    }

    /// <summary>A unique method-name stem from the layer or op name (conv1 -> Conv1).</summary>
    public string KernelName(Node node)
    {
        // A module path (encoder.layers.0.self_attn) becomes Encoder_Layers_0_Self_attn.
        string stem = node.Layer is null
            ? node.Kind.ToString() // PositionalEncoding, LogSoftmax
            : string.Join("_", node.Layer.Name.Split('.').Select(part => char.ToUpperInvariant(part[0]) + part.Substring(1)));
        string name = stem;
        for (int i = 2; !_names.Add(name); i++)
        {
            name = stem + "_" + i;
        }

        return name;
    }
}
