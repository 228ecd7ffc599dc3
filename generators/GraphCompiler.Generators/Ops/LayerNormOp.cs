using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.LayerNorm over the last dimension. Shape: [..., n] -> the same. Forward keeps each row's mean and
/// 1/std (the <c>stats</c> buffer) for the gradient, which gives dX, dWeight and dBias in one pass.
/// </summary>
internal sealed class LayerNormOp : IOpRule
{
    public OpKind Kind => OpKind.LayerNorm;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank is < 1 or > 2 || x.Shape[x.Rank - 1] != layer.In)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: LayerNorm is declared over a last dimension of {layer.In}, but {x.ShapeText} arrives here; declare [LayerNorm({x.Shape[x.Rank - 1]})]");
            return null;
        }

        return x.Shape;
    }

    public long Flops(Node node) => 8L * node.Input.Elements;

    /// <summary>The statistics buffer: mean and 1/std of each row.</summary>
    public static void AddBuffers(Node node, ModelGraph graph)
    {
        int rows = node.Input.Elements / node.Layer!.In;
        node.Buffers["stats"] = graph.NewTensor(new[] { rows * 2 });
    }

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int rows = node.Input.Elements / layer.In;
        var plan = new CallPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: LayerNorm({layer.In}) over {rows} row(s), eps {F(layer.Eps)}",
        };
        plan.PerSample.Add($"{Kernels}LayerNormKernel.Forward({At(node.Input)}, {At(node.Output)}, {I(rows)}, {I(layer.In)}, {Parameter(context, layer.Name + ".weight")}, {Parameter(context, layer.Name + ".bias")}, {F(layer.Eps)}, {At(node.Buffers["stats"])});");
        context.Add(plan);
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int rows = node.Input.Elements / layer.In;
        bool accumulate = context.Accumulate(node.Input.Grad!);
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Comment = $"{layer.Name} backward: dX, dWeight, dBias",
            Backward = true,
        };
        if (!context.AccumulateParameters(layer))
        {
            plan.Setup.Add(Clear(context, layer.Name + ".weight", layer.In));
            plan.Setup.Add(Clear(context, layer.Name + ".bias", layer.In));
        }

        plan.PerSample.Add($"{Kernels}LayerNormKernel.Backward({At(node.Input)}, {At(node.Output.Grad!)}, {At(node.Buffers["stats"])}, {Parameter(context, layer.Name + ".weight")}, {I(rows)}, {I(layer.In)}, {At(node.Input.Grad!)}, {Bool(accumulate)}, {Gradient(context, layer.Name + ".weight")}, {Gradient(context, layer.Name + ".bias")});");
        context.AddGradient(plan);
    }
}
