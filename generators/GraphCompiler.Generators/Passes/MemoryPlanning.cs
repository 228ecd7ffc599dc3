using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Passes;

/// <summary>
/// Gives every stored tensor its offset in a sample's arena region, 64-byte aligned. The backward pass
/// reads every forward activation, so each tensor lives from its forward step to the end of the
/// backward pass: no two tensors overlap in time, and none shares memory. Forward tensors come first,
/// so inference touches one compact region; gradients follow.
/// </summary>
internal static class MemoryPlanning
{
    public static void Run(ModelGraph graph)
    {
        int offset = 0;
        var stored = graph.Tensors
            .Where(t => t.Storage.Stored)
            .OrderBy(t => t.GradOf is null && !t.TrainingOnly ? 0 : 1) // forward values, then training-only tensors and gradients
            .ThenBy(t => t.Id);
        foreach (TensorValue t in stored)
        {
            t.Storage.Offset = offset;
            offset += LoweringContext.RoundUp(t.Storage.Floats, 16);
        }

        graph.ArenaFloatsPerSample = offset;
    }
}
