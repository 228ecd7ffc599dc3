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
}
