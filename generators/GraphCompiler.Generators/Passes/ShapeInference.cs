using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Ops;

namespace GraphCompiler.Generators.Passes;

/// <summary>Gives every tensor its static shape from the op rules; stops at the first mismatch.</summary>
internal static class ShapeInference
{
    public static bool Run(ModelGraph graph, DiagnosticBag diagnostics)
    {
        foreach (Node node in graph.Nodes)
        {
            int[]? shape = OpTable.Get(node.Kind).InferShape(node, diagnostics);
            if (shape is null)
            {
                return false;
            }

            long elements = shape.Aggregate(1L, (a, b) => a * b);
            if (elements > Parse.ModelParser.MaxElements)
            {
                diagnostics.Add(DiagnosticDescriptors.UnsupportedShape, node.Location,
                    $"{node.Label}: the result [{string.Join(", ", shape)}] is too large ({elements} elements per sample; at most {Parse.ModelParser.MaxElements})");
                return false;
            }

            node.Output.Shape = shape;
        }

        // Layers declared and never called cost parameters that never train: warn at the declaration.
        var used = new System.Collections.Generic.HashSet<string>(graph.Nodes.Where(n => n.Layer is not null).Select(n => n.Layer!.Name));
        foreach (var layer in graph.Layers.Where(l => !used.Contains(l.Name)))
        {
            diagnostics.Add(DiagnosticDescriptors.UnusedLayer, layer.Location, layer.Name);
        }

        return true;
    }
}
