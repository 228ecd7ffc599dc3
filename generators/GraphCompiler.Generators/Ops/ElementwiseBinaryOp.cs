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
}
