using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// The one-input, same-shape ops of the Transformer, each a loop over the sample's elements with its
/// gradient beside it: Dropout (identity in inference; in training a seeded mask that backward recomputes),
/// GELU, a constant Scale, and the sinusoidal PositionalEncoding (a table built with the packed weights).
/// </summary>
internal sealed class PointwiseCallOp : IOpRule
{
    public PointwiseCallOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        TensorValue x = node.Input;
        if (Kind == OpKind.PositionalEncoding && x.Rank != 2)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"PositionalEncoding adds to a [length, d_model] tensor per sample, but {x.ShapeText} arrives here");
            return null;
        }

        return x.Shape;
    }

    public long Flops(Node node) => node.Output.Elements;

    public void Lower(Node node, LoweringContext context)
    {
        TensorValue x = node.Input, y = node.Output;
        int length = x.Elements;
        var plan = new CallPlan { Name = context.KernelName(node) };
        switch (Kind)
        {
            case OpKind.Dropout:
                {
                    plan.Comment = $"Dropout({F(node.Real)}) of {x.ShapeText}: the identity in inference";
                    plan.PerSample.Add($"new global::System.ReadOnlySpan<float>({At(x)}, {I(length)}).CopyTo(new global::System.Span<float>({At(y)}, {I(length)}));");
                    context.Add(plan);
                    var training = new CallPlan { Name = plan.Name + "_Train", Comment = $"Dropout({F(node.Real)}) of {x.ShapeText} in training: a seeded mask, recomputed by backward" };
                    training.PerSample.Add($"{Kernels}DropoutKernel.Forward({At(x)}, {At(y)}, {I(length)}, {F(node.Real)}, {Seed(context, node)});");
                    context.AddTrainingVariant(plan.Name, training);
                    return;
                }

            case OpKind.Gelu:
                plan.Comment = $"GELU of {x.ShapeText}";
                plan.PerSample.Add($"{Kernels}ActivationKernel.Gelu({At(x)}, {At(y)}, {I(length)});");
                break;
            case OpKind.Scale:
                plan.Comment = $"{x.ShapeText} times {F(node.Real)}";
                plan.PerSample.Add($"{Kernels}Pointwise.Scale({At(x)}, {At(y)}, {I(length)}, {F(node.Real)});");
                break;
            default:
                {
                    int rows = x.Shape[0], columns = x.Shape[1];
                    int table = context.SinusoidalTable(rows, columns);
                    plan.Comment = $"PositionalEncoding: {x.ShapeText} + pe[:{rows}]";
                    plan.PerSample.Add($"{Kernels}Pointwise.Add({At(x)}, packed + {I(table)}, {At(y)}, {I(length)});");
                    break;
                }
        }

        context.Add(plan);
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue x = node.Input;
        if (x.Grad is null)
        {
            return;
        }

        int length = x.Elements;
        bool accumulate = context.Accumulate(x.Grad);
        string dy = At(node.Output.Grad!), dx = At(x.Grad);
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Backward = true,
            InputGradientOnly = x.Grad.InputGradientOnly,
        };
        switch (Kind)
        {
            case OpKind.Dropout:
                plan.Comment = "Dropout backward: the same mask as the training forward";
                plan.PerSample.Add($"{Kernels}DropoutKernel.Backward({dy}, {dx}, {I(length)}, {F(node.Real)}, {Seed(context, node)}, {Bool(accumulate)});");
                break;
            case OpKind.Gelu:
                plan.Comment = "GELU backward";
                plan.PerSample.Add($"{Kernels}ActivationKernel.GeluBackward({At(x)}, {dy}, {dx}, {I(length)}, {Bool(accumulate)});");
                break;
            case OpKind.Scale:
                plan.Comment = $"Scale backward: dX {(accumulate ? "+=" : "=")} {F(node.Real)} dY";
                plan.PerSample.Add($"{Kernels}Pointwise.ScaleInto({dy}, {dx}, {I(length)}, {F(node.Real)}, {Bool(accumulate)});");
                break;
            default:
                plan.Comment = $"PositionalEncoding backward: dX {(accumulate ? "+=" : "=")} dY";
                plan.PerSample.Add($"{Kernels}Pointwise.ScaleInto({dy}, {dx}, {I(length)}, 1f, {Bool(accumulate)});");
                break;
        }

        context.AddGradient(plan);
    }
}
