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
        if (x.Rank == 2 && x.Shape[1] == layer.In)
        {
            return new[] { x.Shape[0], layer.Out }; // applied to each row, as nn.Linear on [..., in]
        }

        if (x.Rank == 2)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: Linear is declared with {layer.In} input features, but rows of {x.Shape[1]} arrive here ({x.ShapeText}); declare [Linear({x.Shape[1]}, {layer.Out})]");
            return null;
        }

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

    public long Flops(Node node) => 2L * node.Layer!.In * node.Layer.Out * (node.Input.Rank == 2 ? node.Input.Shape[0] : 1);

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        if (node.Input.Rank == 2)
        {
            LowerRows(node, context);
            return;
        }

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

    /// <summary>
    /// Gradient: dZ = dY * act'(y); dW = dZ^T x and db = sum of dZ over the batch; dX = dZ W, reading W
    /// row by row (permuted into the NHWC order when the input is a flattened NHWC tensor).
    /// </summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        if (node.Input.Rank == 2)
        {
            LowerRowsGradient(node, context);
            return;
        }

        LinearPlan forward = context.ForwardOf<LinearPlan>(node);
        TensorPlace gradPre = context.Place(node.Output.Grad!);
        if (node.Epilogue != Activation.None)
        {
            gradPre = context.Place(node.GradPre!);
            context.AddGradient(new ActivationGradPlan
            {
                Name = forward.Name + "_GradPre",
                Comment = $"{layer.Name} backward: dZ = dY * {node.Epilogue}'(y)",
                Activation = node.Epilogue,
                Output = context.Place(node.Output),
                GradOutput = context.Place(node.Output.Grad!),
                GradInput = gradPre,
            });
        }

        bool accumulate = context.AccumulateParameters(layer);
        context.AddGradient(new LinearGradWeightPlan
        {
            Name = forward.Name + "_GradWeight",
            Comment = $"{layer.Name} backward: d{layer.Name}.weight [{layer.Out}, {layer.In}]" + (layer.Bias ? $" and d{layer.Name}.bias" : "") + ", summed over the batch",
            Forward = forward,
            GradPre = gradPre,
            WeightGradOffset = context.WeightOffset(layer),
            BiasGradOffset = layer.Bias ? context.BiasOffset(layer) : -1,
            ScratchOffset = forward.ReadsNhwc ? context.AllocateScratch(layer.Out * forward.DotLength) : 0,
            Accumulate = accumulate,
        });

        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        int weightOffset = context.WeightOffset(layer);
        if (forward.ReadsNhwc)
        {
            var pack = new LinearPermutePack
            {
                Comment = $"{layer.Name}.weight [{layer.Out}, {layer.In}] -> [{layer.Out}][{forward.DotLength}]: columns in the NHWC order of the input, for the input gradient",
                SourceOffset = weightOffset,
                OutFeatures = layer.Out,
                Input = forward.Input,
                PackedFloats = layer.Out * forward.DotLength,
            };
            context.AddPack(pack);
            weightOffset = pack.PackedOffset;
        }

        context.AddGradient(new LinearGradInputPlan
        {
            Name = forward.Name + "_GradInput",
            Comment = $"{layer.Name} backward: dX {context.Place(gradInput).Describe()} = dZ W",
            Forward = forward,
            GradPre = gradPre,
            GradInput = context.Place(gradInput),
            WeightPacked = forward.ReadsNhwc,
            WeightOffset = weightOffset,
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }

    /// <summary>
    /// [rows, in] -> [rows, out]: per sample, the rows start as the bias, then one broadcast GEMM adds x W^T with
    /// the weight packed transposed ([in][out padded to 16]) after each parameter change.
    /// </summary>
    private static void LowerRows(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int rows = node.Input.Shape[0];
        LinearWeightPack pack = TransposedPack(context, layer.Name + ".weight", layer.Out, layer.In, layer.Bias ? layer.Name + ".bias" : null);
        var plan = new CallPlan
        {
            Name = context.KernelName(node),
            Comment = $"{layer.Name}: Linear({layer.In}, {layer.Out})" + (layer.Bias ? " + bias" : "") + $" on each row: {node.Input.ShapeText} -> {node.Output.ShapeText}",
        };
        string bias = layer.Bias ? RowCalls.Parameter(context, layer.Name + ".bias") : "null";
        plan.PerSample.Add($"{RowCalls.Kernels}Gemm.MultiplyAddBias({RowCalls.At(node.Input)}, {layer.In}, packed + {pack.PackedOffset}, {pack.OutFeaturesPadded}, {RowCalls.At(node.Output)}, {layer.Out}, {rows}, {layer.In}, {layer.Out}, {bias});");
        context.Add(plan);
    }

    /// <summary>A weight [rows][columns] packed transposed, [columns][rows padded to 16] (the bias after it), shared by its readers.</summary>
    internal static LinearWeightPack TransposedPack(LoweringContext context, string weight, int rows, int columns, string? bias)
    {
        int padded = LoweringContext.RoundUp(rows, 16);
        var pack = new LinearWeightPack
        {
            Comment = $"{weight} [{rows}, {columns}] -> [{columns}][{padded}]" + (bias is null ? "" : $", {bias} -> [{padded}]") + ": transposed for the row GEMMs",
            SourceOffset = context.ParameterOffset(weight),
            OutFeatures = rows,
            OutFeaturesPadded = padded,
            InFeatures = columns,
            DotLength = columns,
            HasBias = bias is not null,
            BiasSourceOffset = bias is null ? -1 : context.ParameterOffset(bias),
            PackedFloats = columns * padded + padded,
        };
        context.AddPack(pack);
        return pack;
    }

    /// <summary>dX = dY W; dW += dY^T X and db += column sums of dY, per sample.</summary>
    private static void LowerRowsGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int rows = node.Input.Shape[0];
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Comment = $"{layer.Name} backward: dX = dY W, d({layer.Name}.weight) += dY^T X" + (layer.Bias ? $", d({layer.Name}.bias) += column sums of dY" : ""),
            Backward = true,
        };
        if (!context.AccumulateParameters(layer))
        {
            plan.Setup.Add(RowCalls.Clear(context, layer.Name + ".weight", layer.In * layer.Out));
            if (layer.Bias)
            {
                plan.Setup.Add(RowCalls.Clear(context, layer.Name + ".bias", layer.Out));
            }
        }

        string dy = RowCalls.At(node.Output.Grad!);
        if (node.Input.Grad is { } gradInput)
        {
            bool accumulate = context.Accumulate(gradInput);
            plan.PerSample.Add($"{RowCalls.Kernels}Gemm.Multiply({dy}, {layer.Out}, {RowCalls.Parameter(context, layer.Name + ".weight")}, {layer.In}, {RowCalls.At(gradInput)}, {layer.In}, {rows}, {layer.Out}, {layer.In}, {RowCalls.Bool(accumulate)});");
        }

        plan.PerSample.Add($"{RowCalls.Kernels}Gemm.MultiplyTransposedA({dy}, {layer.Out}, {RowCalls.At(node.Input)}, {layer.In}, {RowCalls.Gradient(context, layer.Name + ".weight")}, {layer.In}, {rows}, {layer.Out}, {layer.In});");
        if (layer.Bias)
        {
            plan.PerSample.Add($"{RowCalls.Kernels}Gemm.AddColumnSums({dy}, {layer.Out}, {rows}, {layer.Out}, {RowCalls.Gradient(context, layer.Name + ".bias")});");
        }

        context.AddGradient(plan);
    }
}
