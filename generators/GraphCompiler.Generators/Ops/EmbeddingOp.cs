using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.Embedding. Shape: tokens [L] -> [L, embedding_dim]. Forward: one row of the weight per token (a
/// following constant Scale is folded in). Gradient: the rows of dY added into the looked-up weight rows.
/// </summary>
internal sealed class EmbeddingOp : IOpRule
{
    public OpKind Kind => OpKind.Embedding;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        TensorValue tokens = node.Input;
        if (tokens.Rank != 1)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{node.Layer!.Name}: Embedding looks up a [length] sequence of tokens per sample, but {tokens.ShapeText} arrives here");
            return null;
        }

        return new[] { tokens.Shape[0], node.Layer!.Out };
    }

    public long Flops(Node node) => 0;

    /// <summary>The factor a fused <c>x * c</c> multiplies the rows by (1 without one).</summary>
    public static double ScaleOf(Node node) => node.Real == 0 ? 1 : node.Real;

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int length = node.Input.Shape[0];
        var plan = new CallPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: Embedding({layer.In}, {layer.Out}) of {length} tokens" + (ScaleOf(node) != 1 ? $", times {F(ScaleOf(node))}" : ""),
        };
        plan.PerSample.Add($"{Kernels}EmbeddingKernel.Forward({Tokens(node.Input)}, {I(length)}, {Parameter(context, layer.Name + ".weight")}, {I(layer.Out)}, {F(ScaleOf(node))}, null, {At(node.Output)});");
        context.Add(plan);
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int length = node.Input.Shape[0];
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Comment = $"{layer.Name} backward: dWeight[token] += dY row",
            Backward = true,
        };
        if (!context.AccumulateParameters(layer))
        {
            plan.Setup.Add(Clear(context, layer.Name + ".weight", layer.In * layer.Out));
        }

        plan.PerSample.Add($"{Kernels}EmbeddingKernel.Backward({Tokens(node.Input)}, {I(length)}, {At(node.Output.Grad!)}, {I(layer.Out)}, {F(ScaleOf(node))}, {Gradient(context, layer.Name + ".weight")});");
        context.AddGradient(plan);
    }
}
