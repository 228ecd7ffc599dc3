using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.Linear. Shape: [in] -> [out]. Lowering: weights packed transposed ([in][out], out padded to a
/// vector), one broadcast input value per sample times whole vectors of outputs, register-tiled over
/// samples and outputs, bias and activation in the epilogue. A Flatten of an NHWC tensor is read in
/// place: the packed rows follow the NHWC order.
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
        int dot = node.ReadsNhwcOf is null ? layer.In : input.Floats;
        int nPadded = LoweringContext.RoundUp(layer.Out, 16);
        var pack = new LinearWeightPack
        {
            Comment = $"{layer.Name}.weight [{layer.Out}, {layer.In}] -> [{dot}][{nPadded}]"
                + (node.ReadsNhwcOf is null ? "" : $" (rows in the NHWC order of {node.ReadsNhwcOf.ShapeText})")
                + (layer.Bias ? $", {layer.Name}.bias -> [{nPadded}]" : ""),
            SourceOffset = context.WeightOffset(layer),
            OutFeatures = layer.Out,
            OutFeaturesPadded = nPadded,
            InFeatures = layer.In,
            NhwcInput = node.ReadsNhwcOf is null ? null : input,
            DotLength = dot,
            HasBias = layer.Bias,
            BiasSourceOffset = layer.Bias ? context.BiasOffset(layer) : -1,
            PackedFloats = dot * nPadded + nPadded,
        };
        context.AddPack(pack);

        context.Add(new LinearPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: Linear({layer.In}, {layer.Out})" + (layer.Bias ? " + bias" : "")
                + (node.Epilogue != Activation.None ? " + " + node.Epilogue : "")
                + (node.ReadsNhwcOf is not null ? $", reading Flatten({node.ReadsNhwcOf.ShapeText}) in place" : "")
                + $": {node.Input.ShapeText} -> {node.Output.ShapeText}",
            InFeatures = layer.In,
            DotLength = dot,
            OutFeatures = layer.Out,
            OutFeaturesPadded = nPadded,
            Input = input,
            Output = context.Place(node.Output),
            Activation = node.Epilogue,
            HasBias = layer.Bias,
            ReadsNhwc = node.ReadsNhwcOf is not null,
            PackedWeightOffset = pack.PackedOffset,
            Flops = Flops(node),
        });
    }
}
