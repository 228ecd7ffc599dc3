using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Passes;

/// <summary>
/// Gives every stored tensor an offset in a sample's arena region. Tensors whose lifetimes do not
/// overlap share memory (first fit); zero-bordered tensors never share, since only their interior is
/// ever written. Offsets are multiples of 16 floats (64 bytes).
/// </summary>
internal static class MemoryPlanning
{
    public static void Run(ModelGraph graph)
    {
        List<Node> steps = graph.Live.ToList();
        var placed = new List<(TensorValue Tensor, int First, int Last)>();
        IEnumerable<TensorValue> stored = graph.Inputs.Concat(steps.Select(n => n.Output)).Where(t => t.Storage.ViewOf is null).Distinct();
        foreach (TensorValue t in stored)
        {
            int first = t.Producer is null ? -1 : steps.IndexOf(t.Producer);
            int last = LastUse(t, steps, graph);
            int size = LoweringContext.RoundUp(t.Storage.Floats, 16);
            int offset = 0;
            for (bool moved = true; moved;)
            {
                moved = false;
                foreach (var other in placed)
                {
                    bool sameTime = t.Storage.Pinned || other.Tensor.Storage.Pinned || (first <= other.Last && other.First <= last);
                    int otherStart = other.Tensor.Storage.Offset;
                    int otherEnd = otherStart + LoweringContext.RoundUp(other.Tensor.Storage.Floats, 16);
                    if (sameTime && offset < otherEnd && otherStart < offset + size)
                    {
                        offset = otherEnd; // move past the conflict and check every placement again
                        moved = true;
                    }
                }
            }

            t.Storage.Offset = offset;
            placed.Add((t, first, last));
        }

        graph.ArenaFloatsPerSample = LoweringContext.RoundUp(
            placed.Select(p => p.Tensor.Storage.Offset + p.Tensor.Storage.Floats).DefaultIfEmpty(0).Max(), 16);
    }

    private static int LastUse(TensorValue t, List<Node> steps, ModelGraph graph)
    {
        if (t == graph.Output)
        {
            return steps.Count;
        }

        // Readers of views (a Flatten read in place) read this tensor too.
        IEnumerable<Node> readers = t.Consumers.Concat(graph.Tensors.Where(v => v.Storage.ViewOf == t).SelectMany(v => v.Consumers));
        return readers.Where(n => !n.Fused).Select(n => steps.IndexOf(n)).DefaultIfEmpty(steps.Count).Max();
    }
}
