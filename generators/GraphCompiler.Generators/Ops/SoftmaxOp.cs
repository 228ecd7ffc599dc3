using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// Softmax / log-softmax over the last dimension (dim -1, or the last dim counted with the batch as 0).
/// Shape: unchanged. Lowering: one row at a time, max-subtracted for stability.
/// </summary>
internal sealed class SoftmaxOp : IOpRule
{
    public SoftmaxOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        TensorValue x = node.Input;
        int dim = node.Constants.Length > 0 ? node.Constants[0] : -1;
        int last = x.Rank; // with the batch as dimension 0, the last dimension is numbered Rank
        if (dim != -1 && dim != last)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                $"{Kind} over dimension {dim} of a {x.Rank + 1}-D tensor (batch included) is not supported: only the last dimension (dim: -1 or {last}) is");
            return null;
        }

        if (x.Rank > 2)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                $"{Kind} of a {x.ShapeText} tensor is not supported: Flatten or Reshape it to [rows, classes] first");
            return null;
        }

        return x.Shape;
    }

    public long Flops(Node node) => 4L * node.Output.Elements;

    public void Lower(Node node, LoweringContext context)
    {
        TensorValue x = node.Input;
        int length = x.Shape[x.Rank - 1];
        context.Add(new SoftmaxPlan
        {
            Name = context.KernelName(node),
            Comment = $"{Kind} over the last dimension: {x.ShapeText}",
            Log = Kind == OpKind.LogSoftmax,
            Rows = x.Elements / length,
            Length = length,
            Input = context.Place(x),
            Output = context.Place(node.Output),
        });
    }

    /// <summary>Gradient: softmax dX = y (dY - sum dY y); log-softmax dX = dY - exp(y) sum dY.</summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        TensorValue? gradInput = node.Input.Grad;
        if (gradInput is null)
        {
            return;
        }

        SoftmaxPlan forward = context.ForwardOf<SoftmaxPlan>(node);
        context.AddGradient(new SoftmaxGradPlan
        {
            Name = forward.Name + "_Grad",
            Comment = $"{Kind} backward over the last dimension",
            Forward = forward,
            GradOutput = context.Place(node.Output.Grad!),
            GradInput = context.Place(gradInput),
            Accumulate = context.Accumulate(gradInput),
            InputGradientOnly = gradInput.InputGradientOnly,
        });
    }
}
