using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.Conv2d. Shape: [Cin, H, W] -> [Cout, (H + 2P - D(K-1) - 1) / S + 1, same for W].
/// Lowering: direct convolution over NHWC activations, output channels in vectors, weights packed
/// [kh][kw][ci][co]; bias, activation and a following k x k pool are done in the epilogue.
/// </summary>
internal sealed class Conv2dOp : IOpRule
{
    public OpKind Kind => OpKind.Conv2d;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank != 3)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: Conv2d expects a [channels, height, width] input, but {x.ShapeText} arrives here; reshape it first");
            return null;
        }

        if (x.C != layer.In)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: Conv2d is declared with {layer.In} input channels, but {x.C} arrive here (input {x.ShapeText}); declare [Conv2d({x.C}, {layer.Out}, ...)]");
            return null;
        }

        int ho = OutputSize(x.H, layer.Kernel, layer.Stride, layer.Padding, layer.Dilation);
        int wo = OutputSize(x.W, layer.Kernel, layer.Stride, layer.Padding, layer.Dilation);
        if (ho <= 0 || wo <= 0)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: a {layer.Kernel}x{layer.Kernel} kernel (dilation {layer.Dilation}, padding {layer.Padding}) does not fit the {x.H}x{x.W} input that arrives here");
            return null;
        }

        return new[] { layer.Out, ho, wo };
    }

    /// <summary>PyTorch's output size (floor); 0 when the kernel does not fit.</summary>
    public static int OutputSize(int size, int kernel, int stride, int padding, int dilation)
    {
        int span = size + 2 * padding - dilation * (kernel - 1) - 1;
        return span < 0 || stride <= 0 ? 0 : span / stride + 1;
    }

    public long Flops(Node node)
    {
        var l = node.Layer!;
        int[] conv = ConvShape(node);
        return 2L * l.Out * conv[1] * conv[2] * l.In * l.Kernel * l.Kernel;
    }

    /// <summary>The conv's own output shape (before a fused pool).</summary>
    public static int[] ConvShape(Node node)
    {
        var l = node.Layer!;
        return new[] { l.Out, OutputSize(node.Input.H, l.Kernel, l.Stride, l.Padding, l.Dilation), OutputSize(node.Input.W, l.Kernel, l.Stride, l.Padding, l.Dilation) };
    }

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int[] conv = ConvShape(node);
        int coPadded = LoweringContext.RoundUp(layer.Out, 16);
        var pack = new ConvWeightPack
        {
            Comment = $"{layer.Name}.weight [{layer.Out}, {layer.In}, {layer.Kernel}, {layer.Kernel}] -> [{layer.Kernel}][{layer.Kernel}][{layer.In}][{coPadded}]" + (layer.Bias ? $", {layer.Name}.bias -> [{coPadded}]" : ""),
            SourceOffset = context.WeightOffset(layer),
            OutChannels = layer.Out,
            OutChannelsPadded = coPadded,
            InChannels = layer.In,
            Kernel = layer.Kernel,
            HasBias = layer.Bias,
            BiasSourceOffset = layer.Bias ? context.BiasOffset(layer) : -1,
            // the bias follows the weights, padded like the channels so epilogues load whole vectors
            PackedFloats = layer.Kernel * layer.Kernel * layer.In * coPadded + coPadded,
        };
        context.AddPack(pack);

        Node? pool = node.FusedPool;
        var plan = new ConvPlan
        {
            Name = context.KernelName(node),
            InChannels = layer.In,
            OutChannels = layer.Out,
            OutChannelsPadded = coPadded,
            Kernel = layer.Kernel,
            Stride = layer.Stride,
            Dilation = layer.Dilation,
            Padding = layer.Padding,
            ConvH = conv[1],
            ConvW = conv[2],
            Input = context.Place(node.Input),
            Output = context.Place(node.Output),
            Activation = node.Epilogue,
            Pool = pool is null ? PoolKind.None : pool.Kind == OpKind.MaxPool2d ? PoolKind.Max : PoolKind.Avg,
            PoolKernel = pool?.Layer!.Kernel ?? 1,
            HasBias = layer.Bias,
            PackedWeightOffset = pack.PackedOffset,
            Flops = Flops(node),
        };
        plan.Comment = $"{layer.Name}: Conv2d({layer.In}, {layer.Out}, kernel {layer.Kernel}, stride {layer.Stride}, padding {layer.Padding}, dilation {layer.Dilation})"
            + (layer.Bias ? " + bias" : "")
            + (node.Epilogue != Activation.None ? " + " + node.Epilogue : "")
            + (pool is not null ? $" + {pool.Kind}({pool.Layer!.Kernel}) [{pool.Label}]" : "")
            + $": {node.Input.ShapeText} -> {node.Output.ShapeText}";
        context.Add(plan);

        if (node.Activated is not null)
        {
            // Training stores the activated values before the pool too: the pool's gradient needs them.
            ConvPlan training = plan.CloneForTraining(context.Place(node.Activated));
            training.Comment = plan.Comment + $"; training: also stores the activated {node.Activated.ShapeText} before the pool";
            context.AddTrainingVariant(plan.Name, training);
        }
    }

    /// <summary>
    /// Gradient: the output gradient goes back through the fused pool and activation (dZ), then
    /// dW = sum over pixels of x (x) dZ, db = sum of dZ, and dX = dZ scattered back over the taps.
    /// </summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        ConvPlan forward = context.ForwardOf<ConvPlan>(node);
        TensorPlace gradPre = context.Place(node.GradPre!);
        context.AddGradient(new ConvGradPrePlan
        {
            Name = forward.Name + "_GradPre",
            Comment = $"{layer.Name} backward: the output gradient through {(node.FusedPool is null ? "" : node.FusedPool.Kind + " and ")}{node.Epilogue} -> dZ {context.Place(node.GradPre!).Describe()}",
            Forward = forward,
            GradOutput = context.Place(node.Output.Grad!),
            Activated = context.Place(node.Activated ?? node.Output),
            GradPre = gradPre,
        });

        int coPadded = forward.OutChannelsPadded;
        bool accumulate = context.AccumulateParameters(layer);
        context.AddGradient(new ConvGradWeightPlan
        {
            Name = forward.Name + "_GradWeight",
            Comment = $"{layer.Name} backward: d{layer.Name}.weight [{layer.Out}, {layer.In}, {layer.Kernel}, {layer.Kernel}]" + (layer.Bias ? $" and d{layer.Name}.bias" : "") + $", summed over the batch",
            Forward = forward,
            GradPre = gradPre,
            WeightGradOffset = context.WeightOffset(layer),
            BiasGradOffset = layer.Bias ? context.BiasOffset(layer) : -1,
            ScratchOffset = context.AllocateScratch(layer.Kernel * layer.Kernel * layer.In * coPadded + coPadded),
            Accumulate = accumulate,
        });

        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        int ciPadded = LoweringContext.RoundUp(layer.In, 16);
        var pack = new ConvInputGradPack
        {
            Comment = $"{layer.Name}.weight [{layer.Out}, {layer.In}, {layer.Kernel}, {layer.Kernel}] -> [{layer.Kernel}][{layer.Kernel}][{layer.Out}][{ciPadded}] for the input gradient",
            SourceOffset = context.WeightOffset(layer),
            OutChannels = layer.Out,
            InChannels = layer.In,
            InChannelsPadded = ciPadded,
            Kernel = layer.Kernel,
            PackedFloats = layer.Kernel * layer.Kernel * layer.Out * ciPadded,
        };
        context.AddPack(pack);
        context.AddGradient(new ConvGradInputPlan
        {
            Name = forward.Name + "_GradInput",
            Comment = $"{layer.Name} backward: dX {context.Place(gradInput).Describe()}, each output pixel's dZ scattered over its {layer.Kernel}x{layer.Kernel} taps",
            Forward = forward,
            GradPre = gradPre,
            GradInput = context.Place(gradInput),
            PackedOffset = pack.PackedOffset,
            InChannelsPadded = ciPadded,
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
