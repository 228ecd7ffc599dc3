using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// A learned positional encoding. Shape: [L, D] -> the same, L at most max_length. Forward: x + weight[:L].
/// Gradient: dY flows to x unchanged and is summed over the batch into weight[:L].
/// </summary>
internal sealed class PositionalEmbeddingOp : IOpRule
{
    public OpKind Kind => OpKind.PositionalEmbedding;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank != 2 || x.Shape[1] != layer.Out || x.Shape[0] > layer.In)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: PositionalEmbedding({layer.In}, {layer.Out}) adds to a [length <= {layer.In}, {layer.Out}] tensor per sample, but {x.ShapeText} arrives here");
            return null;
        }

        return x.Shape;
    }

    public long Flops(Node node) => node.Input.Elements;

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        var plan = new CallPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: {node.Input.ShapeText} + {layer.Name}.weight[:{node.Input.Shape[0]}] (learned positions)",
        };
        plan.PerSample.Add($"{Kernels}Pointwise.Add({At(node.Input)}, {Parameter(context, layer.Name + ".weight")}, {At(node.Output)}, {I(node.Input.Elements)});");
        context.Add(plan);
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int length = node.Input.Elements;
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Comment = $"{layer.Name} backward: dX = dY, d({layer.Name}.weight)[:{node.Input.Shape[0]}] += dY",
            Backward = true,
        };
        if (!context.AccumulateParameters(layer))
        {
            plan.Setup.Add(Clear(context, layer.Name + ".weight", layer.In * layer.Out));
        }

        string dy = At(node.Output.Grad!);
        if (node.Input.Grad is { } dx)
        {
            plan.PerSample.Add($"{Kernels}Pointwise.ScaleInto({dy}, {At(dx)}, {I(length)}, 1f, {Bool(context.Accumulate(dx))});");
        }

        plan.PerSample.Add($"{Kernels}Pointwise.ScaleInto({dy}, {Gradient(context, layer.Name + ".weight")}, {I(length)}, 1f, true);");
        context.AddGradient(plan);
    }
}
