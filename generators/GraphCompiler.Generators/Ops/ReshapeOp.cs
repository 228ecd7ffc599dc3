using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// x.view(-1, ...). Shape: the constants after the leading -1 (the batch), whose product must equal the
/// sample size; results of rank 1 to 3. Lowering as Flatten: a copy when the storages differ.
/// </summary>
internal sealed class ReshapeOp : IOpRule
{
    public OpKind Kind => OpKind.Reshape;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        int[] shape = node.Constants;
        if (shape.Length < 2 || shape[0] != -1)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                "Reshape takes the batch first, as -1, then the per-sample dimensions: Reshape(x, -1, 64 * 7 * 7)");
            return null;
        }

        int[] sample = shape.Skip(1).ToArray();
        if (sample.Any(d => d <= 0) || sample.Length > 3)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                $"Reshape to [{string.Join(", ", sample)}] is not supported: give 1 to 3 positive per-sample dimensions after the -1 of the batch");
            return null;
        }

        int elements = sample.Aggregate(1, (a, b) => a * b);
        if (elements != node.Input.Elements)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"Reshape to [-1, {string.Join(", ", sample)}] needs {elements} elements per sample, but {node.Input.ShapeText} holds {node.Input.Elements}; write Reshape(x, -1, {node.Input.Elements}) to flatten it");
            return null;
        }

        return sample;
    }

    public long Flops(Node node) => 0;

    public void Lower(Node node, LoweringContext context) => FlattenOp.LowerRelayout(node, context);

    public void LowerGradient(Node node, LoweringContext context) => FlattenOp.LowerRelayoutGradient(node, context);
}
