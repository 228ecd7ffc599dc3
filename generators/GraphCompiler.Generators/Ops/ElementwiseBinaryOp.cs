using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>Element-wise <c>a + b</c> and <c>a * b</c>. Shape: both inputs equal, output the same.</summary>
internal sealed class ElementwiseBinaryOp : IOpRule
{
    public ElementwiseBinaryOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        TensorValue a = node.Inputs[0], b = node.Inputs[1];
        if (a.ShapeText != b.ShapeText)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"'{(Kind == OpKind.Add ? "+" : "*")}' needs two tensors of the same shape, but the left is {a.ShapeText} and the right is {b.ShapeText}");
            return null;
        }

        return a.Shape;
    }

    public long Flops(Node node) => node.Output.Elements;

    public void Lower(Node node, LoweringContext context) => context.Add(new ElementwisePlan
    {
        Name = context.KernelName(node),
        Comment = $"{Kind}: {node.Inputs[0].ShapeText} {(Kind == OpKind.Add ? "+" : "*")} {node.Inputs[1].ShapeText}",
        Op = Kind == OpKind.Add ? ElementwiseOp.Add : ElementwiseOp.Mul,
        Left = context.Place(node.Inputs[0]),
        Right = context.Place(node.Inputs[1]),
        Output = context.Place(node.Output),
    });

    /// <summary>Gradient: d(a + b) passes dY to both; d(a * b) gives dY * b to a and dY * a to b.</summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue left = node.Inputs[0], right = node.Inputs[1];
        bool accumulateLeft = context.Accumulate(left.Grad!);
        bool accumulateRight = context.Accumulate(right.Grad!);
        context.AddGradient(new BinaryGradPlan
        {
            Name = context.ForwardOf<ElementwisePlan>(node).Name + "_Grad",
            Comment = $"{Kind} backward: {(Kind == OpKind.Add ? "dA = dY, dB = dY" : "dA = dY * b, dB = dY * a")}",
            Multiply = Kind == OpKind.Mul,
            Left = context.Place(left),
            Right = context.Place(right),
            GradOutput = context.Place(node.Output.Grad!),
            GradLeft = context.Place(left.Grad!),
            GradRight = context.Place(right.Grad!),
            AccumulateLeft = accumulateLeft,
            AccumulateRight = accumulateRight,
            InputGradientOnly = left.Grad!.InputGradientOnly && right.Grad!.InputGradientOnly,
        });
    }
}
