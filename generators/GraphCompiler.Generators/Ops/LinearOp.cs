using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.Linear. Shape: [in] -> [out]. Lowering: dot products along the input features, register-tiled over
/// samples and outputs, bias and activation in the epilogue. A Flatten of an NHWC tensor is read in place:
/// the weight columns are permuted into the NHWC order once, at pack time.
/// </summary>
internal sealed class LinearOp : IOpRule
{
    public OpKind Kind => OpKind.Linear;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank != 1)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: Linear expects a [features] input, but {x.ShapeText} arrives here; apply Flatten(x) first (it gives {x.Elements} features)");
            return null;
        }

        if (x.Shape[0] != layer.In)
        {
            string origin = x.Producer is { Kind: OpKind.Flatten or OpKind.Reshape } flatten
                ? $" (the flattened {flatten.Input.ShapeText})"
                : "";
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: Linear is declared with {layer.In} input features, but {x.Shape[0]} arrive here{origin}; declare [Linear({x.Shape[0]}, {layer.Out})]");
            return null;
        }

        return new[] { layer.Out };
    }

    public long Flops(Node node) => 2L * node.Layer!.In * node.Layer.Out;

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        TensorPlace input = context.Place(node.ReadsNhwcOf ?? node.Input);
        var plan = new LinearPlan
        {
            Name = context.KernelName(node),
            InFeatures = layer.In,
            DotLength = node.ReadsNhwcOf is null ? layer.In : input.Floats,
            OutFeatures = layer.Out,
            Input = input,
            Output = context.Place(node.Output),
            Activation = node.Epilogue,
            BiasOffset = layer.Bias ? context.BiasOffset(layer) : -1,
            WeightOffset = context.WeightOffset(layer),
            Flops = Flops(node),
        };
        if (node.ReadsNhwcOf is not null)
        {
            var pack = new LinearPermutePack
            {
                Comment = $"{layer.Name}.weight [{layer.Out}, {layer.In}] -> [{layer.Out}][{input.Floats}]: columns in the NHWC order of {node.ReadsNhwcOf.ShapeText}",
                SourceOffset = plan.WeightOffset,
                OutFeatures = layer.Out,
                Input = input,
                PackedFloats = layer.Out * input.Floats,
            };
            context.AddPack(pack);
            plan.WeightPacked = true;
            plan.WeightOffset = pack.PackedOffset;
        }

        plan.Comment = $"{layer.Name}: Linear({layer.In}, {layer.Out})" + (layer.Bias ? " + bias" : "")
            + (node.Epilogue != Activation.None ? " + " + node.Epilogue : "")
            + (node.ReadsNhwcOf is not null ? $", reading Flatten({node.ReadsNhwcOf.ShapeText}) in place" : "")
            + $": {node.Input.ShapeText} -> {node.Output.ShapeText}";
        context.Add(plan);
    }
}
