using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// torch.flatten(x, 1). Shape: [d1, d2, ...] -> [d1 * d2 * ...]. Lowering: nothing when every consumer
/// is a Linear (it reads the NHWC tensor in place); otherwise a copy into PyTorch's C, H, W order.
/// </summary>
internal sealed class FlattenOp : IOpRule
{
    public OpKind Kind => OpKind.Flatten;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics) => new[] { node.Input.Elements };

    public long Flops(Node node) => 0;

    public void Lower(Node node, LoweringContext context) => LowerRelayout(node, context);

    /// <summary>Shared with Reshape: a copy between storages when they differ, nothing when they agree.</summary>
    public static void LowerRelayout(Node node, LoweringContext context)
    {
        if (node.Output.Storage.ViewOf is not null)
        {
            return; // read in place
        }

        context.Add(new RelayoutPlan
        {
            Name = context.KernelName(node),
            Comment = $"{node.Kind}: {node.Input.ShapeText} -> {node.Output.ShapeText} in PyTorch's element order",
            Input = context.Place(node.Input),
            Output = context.Place(node.Output),
        });
    }

    public void LowerGradient(Node node, LoweringContext context) => LowerRelayoutGradient(node, context);

    /// <summary>Gradient of a view: nothing (the gradients share memory too); of a copy: the copy backwards.</summary>
    public static void LowerRelayoutGradient(Node node, LoweringContext context)
    {
        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        if (node.Output.Storage.ViewOf is not null)
        {
            // The consumers' input gradients were written straight into the input's gradient; keep the
            // accumulate bookkeeping right for any other consumer of the input.
            return;
        }

        context.AddGradient(new RelayoutGradPlan
        {
            Name = context.ForwardOf<RelayoutPlan>(node).Name + "_Grad",
            Comment = $"{node.Kind} backward: {node.Output.ShapeText} -> {node.Input.ShapeText}",
            GradOutput = context.Place(node.Output.Grad!),
            GradInput = context.Place(gradInput),
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
