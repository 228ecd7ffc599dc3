using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.MaxPool2d / nn.AvgPool2d (count_include_pad). Shape: [C, H, W] -> [C, (H + 2P - K) / S + 1, ...].
/// Lowering: fused into the producing convolution's epilogue when the fusion pass allows it, else a
/// loop over NHWC pixels with the channels in vectors.
/// </summary>
internal sealed class PoolOp : IOpRule
{
    public PoolOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank != 3)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: {Kind} expects a [channels, height, width] input, but {x.ShapeText} arrives here");
            return null;
        }

        int ho = Conv2dOp.OutputSize(x.H, layer.Kernel, layer.Stride, layer.Padding, 1);
        int wo = Conv2dOp.OutputSize(x.W, layer.Kernel, layer.Stride, layer.Padding, 1);
        if (ho <= 0 || wo <= 0)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: a {layer.Kernel}x{layer.Kernel} pooling window does not fit the {x.H}x{x.W} input that arrives here");
            return null;
        }

        return new[] { x.C, ho, wo };
    }

    public long Flops(Node node) => (long)node.Output.Elements * node.Layer!.Kernel * node.Layer.Kernel;

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        context.Add(new PoolPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: {Kind}(kernel {layer.Kernel}, stride {layer.Stride}, padding {layer.Padding}): {node.Input.ShapeText} -> {node.Output.ShapeText}",
            Pool = Kind == OpKind.MaxPool2d ? PoolKind.Max : PoolKind.Avg,
            Kernel = layer.Kernel,
            Stride = layer.Stride,
            Padding = layer.Padding,
            Input = context.Place(node.Input),
            Output = context.Place(node.Output),
        });
    }

    /// <summary>Gradient: max sends each output gradient to its window's first maximum; average spreads it evenly.</summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        PoolPlan forward = context.ForwardOf<PoolPlan>(node);
        context.AddGradient(new PoolGradPlan
        {
            Name = forward.Name + "_Grad",
            Comment = $"{node.Layer!.Name} backward: {Kind} gradient -> {context.Place(gradInput).Describe()}",
            Forward = forward,
            GradOutput = context.Place(node.Output.Grad!),
            GradInput = context.Place(gradInput),
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
