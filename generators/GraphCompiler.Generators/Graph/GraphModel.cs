using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Spec;

namespace GraphCompiler.Generators.Graph;

/// <summary>Every operation the compiler knows; <see cref="Ops.OpTable"/> maps each to its rules.</summary>
internal enum OpKind
{
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    Softmax,
    LogSoftmax,
    Flatten,
    Reshape,
    Add,
    Mul,
    Lstm,
    Gru,
    RecurrentState,
    Select,
    Embedding,
    LayerNorm,
    Attention,
    Dropout,
    Gelu,
    Scale,
    PositionalEncoding,
    PositionalEmbedding,
}

/// <summary>An element-wise function applied in a kernel's epilogue (or on its own).</summary>
internal enum Activation
{
    None,
    Relu,
    Tanh,
    Sigmoid,
}

internal enum StorageKind
{
    /// <summary>Row-major, PyTorch's own order: 1-D and 2-D tensors.</summary>
    Flat,
    /// <summary>[C, H, W] tensors stored channels-last ([H + 2P][W + 2P][Cs]) with a zero border of P pixels.</summary>
    Nhwc,
}

/// <summary>Where and how one sample of a tensor lies in the arena. Decided by the layout and memory passes.</summary>
internal sealed class Storage
{
    public StorageKind Kind { get; set; }
    /// <summary>
    /// Zero border in pixels (NHWC only): the largest padding any consuming convolution needs. The border
    /// is zero from the arena's allocation on and never written, since no two tensors share memory.
    /// </summary>
    public int Pad { get; set; }
    /// <summary>Distance between channels of neighbouring pixels (NHWC): C rounded up to a whole vector, or C for a compact input.</summary>
    public int ChannelStride { get; set; }
    /// <summary>Offset of this tensor in each sample's arena region, in floats.</summary>
    public int Offset { get; set; } = -1;
    /// <summary>Size of one sample of the stored tensor, in floats (padding included).</summary>
    public int Floats { get; set; }
    /// <summary>Has memory in the arena (set by layout choice; views and fused-away tensors have none).</summary>
    public bool Stored { get; set; }
    /// <summary>A view shares the storage of another tensor (a Flatten read in place by a Linear).</summary>
    public TensorValue? ViewOf { get; set; }
}

internal sealed class TensorValue
{
    public TensorValue(int id, int[] shape)
    {
        Id = id;
        Shape = shape;
    }

    public int Id { get; }
    /// <summary>Per-sample shape in PyTorch order (the batch is implicit).</summary>
    public int[] Shape { get; set; }
    public Node? Producer { get; set; }
    public List<Node> Consumers { get; } = new();
    public Storage Storage { get; } = new();
    public bool IsModelInput { get; set; }
    public string? InputName { get; set; }
    /// <summary>Integer tokens (a token input): stored as ints in the float slots of the arena; no gradient.</summary>
    public bool IsTokens { get; set; }
    /// <summary>A padding mask value (<c>src == Pad</c>): not a tensor of its own but this token tensor and <see cref="MaskPad"/>.</summary>
    public TensorValue? MaskTokens { get; set; }
    public int MaskPad { get; set; }

    // Set by autodiff.
    /// <summary>The gradient of the loss with respect to this tensor (same shape and storage layout).</summary>
    public TensorValue? Grad { get; set; }
    /// <summary>This tensor holds a gradient (of <see cref="GradOf"/>).</summary>
    public TensorValue? GradOf { get; set; }
    /// <summary>The gradient is only needed for the input gradient (no parameter lies upstream).</summary>
    public bool InputGradientOnly { get; set; }
    /// <summary>Stored only by the training forward (a fused pool's un-pooled activations).</summary>
    public bool TrainingOnly { get; set; }

    public int Elements => Shape.Aggregate(1, (a, b) => a * b);
    public int Rank => Shape.Length;
    public int C => Shape[0];
    public int H => Shape[1];
    public int W => Shape[2];

    /// <summary>The tensor whose memory holds this one (itself unless it is a view).</summary>
    public TensorValue Root => Storage.ViewOf?.Root ?? this;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

internal sealed class Node
{
    public Node(int id, OpKind kind, LayerSpec? layer, TensorValue[] inputs, int[] constants, LocationInfo? location)
    {
        Id = id;
        Kind = kind;
        Layer = layer;
        Inputs = inputs;
        Constants = constants;
        Location = location;
    }

    public int Id { get; }
    public OpKind Kind { get; }
    /// <summary>The layer member for layer calls (weights, hyperparameters); null for functional ops.</summary>
    public LayerSpec? Layer { get; }
    public TensorValue[] Inputs { get; }
    public int[] Constants { get; }
    /// <summary>A real constant: Scale's factor, Dropout's probability.</summary>
    public double Real { get; set; }
    public TensorValue Output { get; set; } = null!;
    /// <summary>The tensor this op produces as declared; fusion may move <see cref="Output"/> to a later op's.</summary>
    public TensorValue DeclaredOutput { get; set; } = null!;
    public LocationInfo? Location { get; }

    // Set by fusion.
    public Activation Epilogue { get; set; }
    public Node? FusedPool { get; set; }
    /// <summary>Removed by fusion: its work is done in another node's loop.</summary>
    public bool Fused { get; set; }
    /// <summary>Linear only: the input is an NHWC tensor read in place, so the weight columns are permuted at pack time.</summary>
    public TensorValue? ReadsNhwcOf { get; set; }

    // Set by autodiff for Conv2d and Linear.
    /// <summary>The activated output before a fused pool, stored by the training forward (null without a fused pool).</summary>
    public TensorValue? Activated { get; set; }
    /// <summary>Gradient with respect to the pre-activation output (before activation and pool).</summary>
    public TensorValue? GradPre { get; set; }

    // Recurrent layers (Lstm, Gru).
    /// <summary>Per stacked layer, the arena buffers of its states and gates (set by layout choice).</summary>
    public List<RecurrentBuffers> Recurrent { get; } = new();
    /// <summary>The RecurrentState nodes reading h_n (index 0) and c_n (index 1) of this recurrent node.</summary>
    public Node?[] StateReaders { get; } = new Node?[2];

    /// <summary>Extra arena tensors of a row-kernel op (layer-norm statistics, attention's projections), by name.</summary>
    public Dictionary<string, TensorValue> Buffers { get; } = new();

    /// <summary>A readable name: the layer member, or the op.</summary>
    public string Label => Layer?.Name ?? Kind.ToString().ToLowerInvariant();

    public TensorValue Input => Inputs[0];
}

/// <summary>
/// The arena buffers of one stacked layer of a recurrent op, flat per sample, with the hidden size padded
/// to whole 16-float groups (Hp) so that every width loads whole vectors. Gates are interleaved per group
/// of 16 hidden units: [T][Hp / 16][4][16] (LSTM i, f, g, o; GRU r, z, n and the recurrent part of n).
/// </summary>
internal sealed class RecurrentBuffers
{
    /// <summary>h: [T + 1][Hp]; slot 0 holds the initial state (zero unless given), slot t + 1 the state after step t.</summary>
    public TensorValue States { get; set; } = null!;
    /// <summary>LSTM c, laid out as <see cref="States"/>; null for a GRU.</summary>
    public TensorValue? Cells { get; set; }
    /// <summary>[T][4 Hp]: pre-activations from the input projection, then the activated gates of each step.</summary>
    public TensorValue Gates { get; set; } = null!;
    /// <summary>Backward: dLoss/dh of each step from above (the layer above, or the op's output), [T][Hp].</summary>
    public TensorValue StateGrads { get; set; } = null!;
    /// <summary>Backward: dLoss/d(pre-activation gates), [T][4 Hp] in the order of <see cref="Gates"/>.</summary>
    public TensorValue GateGrads { get; set; } = null!;
    /// <summary>Backward: the gradient carried to the previous step outside the recurrent product, [Hp] (dc for an LSTM, z dh for a GRU).</summary>
    public TensorValue Carry { get; set; } = null!;
    /// <summary>Backward, the first layer only: dLoss/dx with rows padded to whole vectors, [T][input padded to 16].</summary>
    public TensorValue? InputGrads { get; set; }
}

/// <summary>The dataflow graph of one forward method, in execution order.</summary>
internal sealed class ModelGraph
{
    public ModelGraph(ModelSpec spec) => Spec = spec;

    public ModelSpec Spec { get; }
    public List<Node> Nodes { get; } = new();
    public List<TensorValue> Tensors { get; } = new();
    public List<TensorValue> Inputs { get; } = new();
    public TensorValue? Output { get; set; }
    /// <summary>Every layer with its full PyTorch path (modules inlined: <c>encoder.layers.0.self_attn</c>), in parameter order.</summary>
    public List<LayerSpec> Layers { get; } = new();


    /// <summary>Per sample, the seed of the training forward's dropout masks (two floats holding a ulong); null without dropout.</summary>
    public TensorValue? DropoutSeed { get; set; }

    /// <summary>Floats per sample in the arena, set by memory planning.</summary>
    public int ArenaFloatsPerSample { get; set; }

    public IEnumerable<Node> Live => Nodes.Where(n => !n.Fused);

    public TensorValue NewTensor(int[] shape)
    {
        var t = new TensorValue(Tensors.Count, shape);
        Tensors.Add(t);
        return t;
    }
}
