using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// torch.select(x, dim, index), written <c>x[.., i]</c>: the dimension is dropped. Shape: [.., n, ..] ->
/// [.., ..]. Lowering: a strided copy of a flat tensor. Gradient: into the selected index, zero elsewhere.
/// </summary>
internal sealed class SelectOp : IOpRule
{
    public OpKind Kind => OpKind.Select;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        TensorValue x = node.Input;
        if (node.Constants.Length != 2)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, node.Location, "Select takes a tensor, a dimension and an index: Select(x, 1, -1)");
            return null;
        }

        int dim = node.Constants[0], index = node.Constants[1];
        if (dim < 1 || dim > x.Rank)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"Select: dimension {dim} does not exist in {x.ShapeText} (dimensions 1 to {x.Rank} follow the batch, which is 0 and cannot be selected)");
            return null;
        }

        if (x.Rank < 2)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"Select of {x.ShapeText} would leave no dimension but the batch; index a tensor with two or more dimensions per sample");
            return null;
        }

        if (x.Rank == 3)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                $"Select of the image tensor {x.ShapeText} is not supported: Select reads sequences and matrices ([T, features]); flatten or reshape the image first");
            return null;
        }

        int extent = x.Shape[dim - 1];
        if (index < -extent || index >= extent)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"Select: index {index} is out of range for dimension {dim} of {x.ShapeText} (valid: {-extent} to {extent - 1})");
            return null;
        }

        return x.Shape.Where((_, i) => i != dim - 1).ToArray();
    }

    public long Flops(Node node) => 0;

    /// <summary>The index counted from the start.</summary>
    public static int Index(Node node) => node.Constants[1] < 0 ? node.Constants[1] + node.Input.Shape[node.Constants[0] - 1] : node.Constants[1];

    public void Lower(Node node, LoweringContext context)
    {
        int dim = node.Constants[0];
        int[] shape = node.Input.Shape;
        context.Add(new SelectPlan
        {
            Name = context.KernelName(node),
            Comment = $"Select: {node.Input.ShapeText}[dimension {dim} = {Index(node)}] -> {node.Output.ShapeText}",
            Input = context.Place(node.Input),
            Output = context.Place(node.Output),
            Outer = shape.Take(dim - 1).Aggregate(1, (a, b) => a * b),
            Extent = shape[dim - 1],
            Inner = shape.Skip(dim).Aggregate(1, (a, b) => a * b),
            Index = Index(node),
        });
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        SelectPlan forward = context.ForwardOf<SelectPlan>(node);
        context.AddGradient(new SelectGradPlan
        {
            Name = forward.Name + "_Grad",
            Comment = $"Select backward: the gradient {node.Output.ShapeText} into index {forward.Index} of dimension {node.Constants[0]}",
            Forward = forward,
            GradOutput = context.Place(node.Output.Grad!),
            GradInput = context.Place(gradInput),
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
