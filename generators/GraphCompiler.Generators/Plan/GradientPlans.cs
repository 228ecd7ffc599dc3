using GraphCompiler.Generators.Graph;

namespace GraphCompiler.Generators.Plan;

// Kernels of the backward pass. They run in reverse order of the forward kernels and share one
// signature: (arena, parameters, packed, grads, scratch, batch). "Accumulate" says whether the kernel
// adds to its gradient (a second contribution: a tensor read twice, a layer called twice) or writes it.

/// <summary>Copies the caller's output gradient into the arena (zeros in any padding).</summary>
internal sealed class GradCopyInPlan : KernelPlan
{
    public TensorPlace Destination { get; set; } = null!;
    public int OutputSize { get; set; }
}

/// <summary>Copies the input gradient out of the arena into the caller's span, in PyTorch order.</summary>
internal sealed class GradCopyOutPlan : KernelPlan
{
    public TensorPlace Source { get; set; } = null!;
    public int InputSize { get; set; }
}

/// <summary>
/// Gradient before a convolution's epilogue: routes the output gradient back through a fused pool
/// (max: to the window's maximum; average: spread evenly) and multiplies by the activation's derivative,
/// computed from the stored activated values.
/// </summary>
internal sealed class ConvGradPrePlan : KernelPlan
{
    public ConvPlan Forward { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    /// <summary>Activated conv output: the stored un-pooled values, or the output itself without a pool.</summary>
    public TensorPlace Activated { get; set; } = null!;
    public TensorPlace GradPre { get; set; } = null!;
}

/// <summary>dW (packed order, in scratch, then unpacked to PyTorch's layout) and db of a convolution.</summary>
internal sealed class ConvGradWeightPlan : KernelPlan
{
    public ConvPlan Forward { get; set; } = null!;
    public TensorPlace GradPre { get; set; } = null!;
    public int WeightGradOffset { get; set; }
    public int BiasGradOffset { get; set; } = -1;
    public int ScratchOffset { get; set; }
    public bool Accumulate { get; set; }
}

/// <summary>dX of a convolution: each output pixel's gradient scattered back over its taps.</summary>
internal sealed class ConvGradInputPlan : KernelPlan
{
    public ConvPlan Forward { get; set; } = null!;
    public TensorPlace GradPre { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    /// <summary>Weights packed [kh][kw][co][ci padded] for vectors over input channels.</summary>
    public int PackedOffset { get; set; }
    public int InChannelsPadded { get; set; }
    public bool Accumulate { get; set; }
}

internal sealed class ConvInputGradPack : PackPlan
{
    public int OutChannels { get; set; }
    public int InChannels { get; set; }
    public int InChannelsPadded { get; set; }
    public int Kernel { get; set; }
}

/// <summary>dW and db of a Linear: dW[o][k] = sum over samples of dZ[n][o] x[n][k].</summary>
internal sealed class LinearGradWeightPlan : KernelPlan
{
    public LinearPlan Forward { get; set; } = null!;
    public TensorPlace GradPre { get; set; } = null!;
    public int WeightGradOffset { get; set; }
    public int BiasGradOffset { get; set; } = -1;
    /// <summary>With an NHWC input, dW is built in the input's order in scratch and permuted into PyTorch's.</summary>
    public int ScratchOffset { get; set; }
    public bool Accumulate { get; set; }
}

/// <summary>dX of a Linear: dX[n][k] = sum over outputs of dZ[n][o] W[o][k], W read row by row.</summary>
internal sealed class LinearGradInputPlan : KernelPlan
{
    public LinearPlan Forward { get; set; } = null!;
    public TensorPlace GradPre { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    /// <summary>W [N][K] in the parameters, or permuted into the NHWC order [N][K'] in the packed buffer.</summary>
    public bool WeightPacked { get; set; }
    public int WeightOffset { get; set; }
    public bool Accumulate { get; set; }
}

/// <summary>Linear weight [N][C*H*W] to [N][NHWC storage of the input], zeros at padding positions.</summary>
internal sealed class LinearPermutePack : PackPlan
{
    public int OutFeatures { get; set; }
    public TensorPlace Input { get; set; } = null!;
}

/// <summary>dX = dY * f'(y) for ReLU, tanh, sigmoid, from the stored output y.</summary>
internal sealed class ActivationGradPlan : KernelPlan
{
    public Activation Activation { get; set; }
    public TensorPlace Output { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    public bool Accumulate { get; set; }
}

/// <summary>Gradients of a + b and a * b.</summary>
internal sealed class BinaryGradPlan : KernelPlan
{
    public bool Multiply { get; set; }
    public TensorPlace Left { get; set; } = null!;
    public TensorPlace Right { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradLeft { get; set; } = null!;
    public TensorPlace GradRight { get; set; } = null!;
    public bool AccumulateLeft { get; set; }
    public bool AccumulateRight { get; set; }
}

/// <summary>Gradient of a standalone pool: max routes to the window's maximum, average spreads evenly.</summary>
internal sealed class PoolGradPlan : KernelPlan
{
    public PoolPlan Forward { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    public bool Accumulate { get; set; }
}

/// <summary>Gradient of softmax (dx = y (dy - sum dy y)) or log-softmax (dx = dy - exp(y) sum dy).</summary>
internal sealed class SoftmaxGradPlan : KernelPlan
{
    public SoftmaxPlan Forward { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    public bool Accumulate { get; set; }
}

/// <summary>Gradient of a copy between storages (Flatten, Reshape): the copy backwards.</summary>
internal sealed class RelayoutGradPlan : KernelPlan
{
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    public bool Accumulate { get; set; }
}
