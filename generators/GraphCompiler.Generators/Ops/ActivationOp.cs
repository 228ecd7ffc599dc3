using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// ReLU, tanh, sigmoid. Shape: unchanged. Lowering: folded into the producer's epilogue by fusion when
/// possible, else an element-wise loop.
/// </summary>
internal sealed class ActivationOp : IOpRule
{
    public ActivationOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    public int[]? InferShape(Node node, DiagnosticBag diagnostics) => node.Input.Shape;

    public long Flops(Node node) => node.Output.Elements;

    public static Activation ToActivation(OpKind kind) => kind switch
    {
        OpKind.Relu => Activation.Relu,
        OpKind.Tanh => Activation.Tanh,
        OpKind.Sigmoid => Activation.Sigmoid,
        _ => Activation.None,
    };

    public void Lower(Node node, LoweringContext context) => context.Add(new ElementwisePlan
    {
        Name = context.KernelName(node),
        Comment = $"{Kind}: {node.Input.ShapeText}",
        Op = Kind switch { OpKind.Relu => ElementwiseOp.Relu, OpKind.Tanh => ElementwiseOp.Tanh, _ => ElementwiseOp.Sigmoid },
        Left = context.Place(node.Input),
        Output = context.Place(node.Output),
    });

    /// <summary>Gradient: dX = dY * f'(y), from the stored output y.</summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        context.AddGradient(new ActivationGradPlan
        {
            Name = context.ForwardOf<ElementwisePlan>(node).Name + "_Grad",
            Comment = $"{Kind} backward: dX = dY * {Kind}'(y)",
            Activation = ToActivation(Kind),
            Output = context.Place(node.Output),
            GradOutput = context.Place(node.Output.Grad!),
            GradInput = context.Place(gradInput),
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
