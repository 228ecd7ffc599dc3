using System.Collections.Generic;
using GraphCompiler.Generators.Graph;

namespace GraphCompiler.Generators.Plan;

/// <summary>The vector widths a kernel is emitted for; the value is the number of float lanes.</summary>
internal enum VectorWidth
{
    Scalar = 1,
    V128 = 4,
    V256 = 8,
    V512 = 16,
}

/// <summary>
/// Where one sample of a tensor lies: offset in the arena region of a sample, NHWC geometry or flat size.
/// A copy of the graph's storage with the numbers the emitter needs, so the emitter never reads the graph.
/// </summary>
internal sealed record TensorPlace(StorageKind Kind, int Offset, int C, int H, int W, int Pad, int ChannelStride, int Floats)
{
    public int RowStride => (W + 2 * Pad) * ChannelStride;

    /// <summary>Offset of pixel (h, w) of the interior, relative to the sample's arena region.</summary>
    public int Pixel(int h, int w) => Offset + ((h + Pad) * (W + 2 * Pad) + (w + Pad)) * ChannelStride;

    public string Describe() => Kind == StorageKind.Flat
        ? $"[{C}] at +{Offset}"
        : $"[{C}, {H}, {W}] as NHWC {H + 2 * Pad}x{W + 2 * Pad}x{ChannelStride} at +{Offset}";
}

/// <summary>A register tile chosen for one vector width.</summary>
/// <param name="Rows">Conv: pixels of the tile (pooled outputs for a fused pool). Linear: samples.</param>
/// <param name="Vectors">Conv: output-channel vectors per tile. Linear: outputs per tile.</param>
internal sealed record Tile(int Rows, int Vectors);

internal abstract class KernelPlan
{
    /// <summary>Method name stem, e.g. <c>Conv1</c>.</summary>
    public string Name { get; set; } = "";
    /// <summary>The ops and shapes this loop covers, printed above it.</summary>
    public string Comment { get; set; } = "";
    /// <summary>Backward kernels that only serve the input gradient run only when it is asked for.</summary>
    public bool InputGradientOnly { get; set; }
    /// <summary>Tiles per vector width (kernels without register tiles leave it empty).</summary>
    public Dictionary<VectorWidth, Tile> Tiles { get; } = new();
}

/// <summary>Copies a forward input (PyTorch order) into its arena storage (NHWC, padded when a conv needs it).</summary>
internal sealed class CopyInPlan : KernelPlan
{
    public int InputIndex { get; set; }
    public int InputSize { get; set; }
    public TensorPlace Destination { get; set; } = null!;
}

/// <summary>Copies the result tensor out of the arena into the caller's span, in PyTorch order.</summary>
internal sealed class CopyOutPlan : KernelPlan
{
    public TensorPlace Source { get; set; } = null!;
    public int OutputSize { get; set; }
}

internal enum PoolKind
{
    None,
    Max,
    Avg,
}

/// <summary>Direct convolution over NHWC with weights packed [kh][kw][ci][co], epilogue bias + activation (+ pool).</summary>
internal sealed class ConvPlan : KernelPlan
{
    public int InChannels { get; set; }
    public int OutChannels { get; set; }
    /// <summary>Output channels rounded up to a whole 16-float vector: the packed weight row and the output channel stride.</summary>
    public int OutChannelsPadded { get; set; }
    public int Kernel { get; set; }
    public int Stride { get; set; }
    public int Dilation { get; set; }
    public int Padding { get; set; }
    /// <summary>Conv output size (before a fused pool).</summary>
    public int ConvH { get; set; }
    public int ConvW { get; set; }
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
    public Activation Activation { get; set; }
    public PoolKind Pool { get; set; }
    public int PoolKernel { get; set; } = 1;
    public bool HasBias { get; set; }
    /// <summary>Offset of the packed weights in the packed buffer; the padded bias follows them.</summary>
    public int PackedWeightOffset { get; set; }
    public int PackedBiasOffset => PackedWeightOffset + Kernel * Kernel * InChannels * OutChannelsPadded;
    public long Flops { get; set; }
    /// <summary>With a fused pool: where the training forward also stores the activated, un-pooled values.</summary>
    public TensorPlace? Activated { get; set; }
    /// <summary>This is the training variant, which stores <see cref="Activated"/>.</summary>
    public bool Training { get; set; }

    public ConvPlan CloneForTraining(TensorPlace activated)
    {
        var copy = (ConvPlan)MemberwiseClone();
        copy.Name = Name + "_Train";
        copy.Training = true;
        copy.Activated = activated;
        return copy;
    }
}

internal sealed class PoolPlan : KernelPlan
{
    public PoolKind Pool { get; set; }
    public int Kernel { get; set; }
    public int Stride { get; set; }
    public int Padding { get; set; }
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>
/// y = act(x W^T + b) with the weights packed transposed, [K][N rounded up to a vector] (and the input
/// columns permuted into NHWC order when a Flatten is read in place): each step broadcasts one input
/// value per sample and multiplies whole vectors of outputs, in register tiles of (samples x vectors).
/// </summary>
internal sealed class LinearPlan : KernelPlan
{
    public int InFeatures { get; set; }
    /// <summary>Rows of the packed weights: InFeatures, or the NHWC storage size of the flattened input.</summary>
    public int DotLength { get; set; }
    public int OutFeatures { get; set; }
    /// <summary>Outputs rounded up to a whole 16-float vector: the packed row length.</summary>
    public int OutFeaturesPadded { get; set; }
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
    public Activation Activation { get; set; }
    public bool HasBias { get; set; }
    public bool ReadsNhwc { get; set; }
    /// <summary>Packed weights [DotLength][OutFeaturesPadded], then the padded bias.</summary>
    public int PackedWeightOffset { get; set; }
    public int PackedBiasOffset => PackedWeightOffset + DotLength * OutFeaturesPadded;
    /// <summary>K steps per block, so a block of weight columns stays in L1 while every sample tile passes.</summary>
    public int KBlock { get; set; }
    /// <summary>Per width: the sample-tile heights, largest first, with the output vectors each tile holds.</summary>
    public Dictionary<VectorWidth, List<Tile>> RowTiles { get; } = new();
    public long Flops { get; set; }
}

internal enum ElementwiseOp
{
    Relu,
    Tanh,
    Sigmoid,
    Add,
    Mul,
}

/// <summary>An element-wise op over one or two tensors of the same shape (storages may differ).</summary>
internal sealed class ElementwisePlan : KernelPlan
{
    public ElementwiseOp Op { get; set; }
    public TensorPlace Left { get; set; } = null!;
    public TensorPlace? Right { get; set; }
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>Softmax or log-softmax over the last dimension of a flat tensor of Rows x Length.</summary>
internal sealed class SoftmaxPlan : KernelPlan
{
    public bool Log { get; set; }
    public int Rows { get; set; }
    public int Length { get; set; }
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>Copies between an NHWC tensor and a flat one in PyTorch's C, H, W order (Flatten, Reshape).</summary>
internal sealed class RelayoutPlan : KernelPlan
{
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>A weight rearrangement done once per parameter change, into the shared packed buffer.</summary>
internal abstract class PackPlan
{
    public string Comment { get; set; } = "";
    public int SourceOffset { get; set; }
    public int PackedOffset { get; set; }
    public int PackedFloats { get; set; }
}

/// <summary>Conv weight [Co][Ci][K][K] to [K][K][Ci][CoPadded].</summary>
internal sealed class ConvWeightPack : PackPlan
{
    public int OutChannels { get; set; }
    public int OutChannelsPadded { get; set; }
    public int InChannels { get; set; }
    public int Kernel { get; set; }
    public bool HasBias { get; set; }
    public int BiasSourceOffset { get; set; } = -1;
}

/// <summary>Linear weight [N][K] to [K'][N padded] (K' = K, or the NHWC storage of a flattened input), bias after it.</summary>
internal sealed class LinearWeightPack : PackPlan
{
    public int OutFeatures { get; set; }
    public int OutFeaturesPadded { get; set; }
    public int InFeatures { get; set; }
    /// <summary>The flattened NHWC input whose order the rows follow, or null for a flat input.</summary>
    public TensorPlace? NhwcInput { get; set; }
    public int DotLength { get; set; }
    public bool HasBias { get; set; }
    public int BiasSourceOffset { get; set; } = -1;
}

/// <summary>Everything the emitter prints for one model.</summary>
internal sealed class ModelPlan
{
    public string? Namespace { get; set; }
    public string ClassName { get; set; } = "";
    public List<KernelPlan> Kernels { get; } = new();
    /// <summary>Forward kernels that differ in training (they store what backward reads), by forward kernel name.</summary>
    public Dictionary<string, KernelPlan> TrainingVariants { get; } = new();
    /// <summary>The backward pass, in execution order.</summary>
    public List<KernelPlan> Backward { get; } = new();
    public int ScratchFloats { get; set; }
    public List<PackPlan> Packs { get; } = new();
    public int PackedFloats { get; set; }
    public int ArenaFloatsPerSample { get; set; }
    public int InputSize { get; set; }
    public string InputShape { get; set; } = "";
    public int OutputSize { get; set; }
    public string OutputShape { get; set; } = "";
    public List<ParameterPlan> Parameters { get; } = new();
    public int ParameterFloats { get; set; }
    public List<string> SummaryLines { get; } = new();
    /// <summary>The graph as declared, for the generated <c>Graph</c> description (export, tools).</summary>
    public List<GraphNodePlan> GraphNodes { get; } = new();
    public string InputName { get; set; } = "";
    public string OutputName { get; set; } = "";
    /// <summary>The token inputs, in parameter order (empty for a model of one float input).</summary>
    public List<TokenInputPlan> TokenInputs { get; } = new();
    /// <summary>Incremental decoding (a model of source and target tokens with one result row per target position), or null.</summary>
    public DecodePlan? Decode { get; set; }
    /// <summary>Arena offset of each sample's dropout seed, or -1 without dropout.</summary>
    public int DropoutSeedOffset { get; set; } = -1;
}

/// <summary>A token input: its parameter name, tokens per sample, and the exclusive bound its embeddings accept.</summary>
internal sealed record TokenInputPlan(string Name, int Length, int Vocabulary, string CopyKernel);

/// <summary>One node of the declared graph, as the generated description prints it.</summary>
internal sealed record GraphNodePlan(string Op, string? Layer, string[] Inputs, string Output, int[] Shape, int[] Attributes);

/// <summary>One named parameter tensor: PyTorch name, shape, offset and default initialization.</summary>
internal sealed record ParameterPlan(string Name, int[] Shape, int Offset, string Init, float Bound)
{
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }
}
