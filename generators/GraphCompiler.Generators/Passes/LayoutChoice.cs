using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Passes;

/// <summary>
/// Chooses how each tensor is stored: [C, H, W] channels-last with the channels padded to a whole
/// 16-float vector (so every width loads full vectors) and a zero border as wide as the largest padding
/// of its consumers (so convolutions never test borders); everything else flat, in PyTorch's order.
/// </summary>
internal static class LayoutChoice
{
    public static void Run(ModelGraph graph)
    {
        // Recurrent layers keep their states, gates and gradients in buffers of their own.
        foreach (Node node in graph.Live.Where(n => n.Kind is OpKind.Lstm or OpKind.Gru).ToList())
        {
            Ops.RecurrentOp.AddBuffers(node, graph);
        }

        // Row-kernel ops keep statistics and projections in buffers of their own; dropout needs a seed per sample.
        foreach (Node node in graph.Live.ToList())
        {
            if (node.Kind == OpKind.LayerNorm)
            {
                Ops.LayerNormOp.AddBuffers(node, graph);
            }
            else if (node.Kind == OpKind.Attention)
            {
                Ops.AttentionOp.AddBuffers(node, graph);
            }
        }

        if (graph.Live.Any(n => n.Kind == OpKind.Dropout || (n.Kind == OpKind.Attention && n.Layer!.Real > 0)))
        {
            graph.DropoutSeed = graph.NewTensor(new[] { 2 });
        }

        var buffers = graph.Live.SelectMany(n => n.Buffers.Values).Concat(graph.DropoutSeed is null ? Enumerable.Empty<TensorValue>() : new[] { graph.DropoutSeed });
        foreach (TensorValue t in buffers)
        {
            t.Storage.Stored = true;
            t.Storage.Kind = StorageKind.Flat;
            t.Storage.Floats = t.Elements;
        }

        var values = graph.Inputs.Concat(graph.Live.Select(n => n.Output)).Where(t => t.Storage.ViewOf is null).ToList();
        foreach (TensorValue t in values)
        {
            Storage s = t.Storage;
            s.Stored = true;
            if (t.Rank != 3)
            {
                s.Kind = StorageKind.Flat;
                s.Floats = t.Elements;
                continue;
            }

            s.Kind = StorageKind.Nhwc;
            s.Pad = t.Consumers.Where(c => !c.Fused && c.Kind is OpKind.Conv2d or OpKind.AvgPool2d)
                .Select(c => c.Layer!.Padding).DefaultIfEmpty(0).Max();
            s.ChannelStride = t.IsModelInput
                ? t.C // convolutions broadcast input channels one at a time: no need to pad them
                : t.Producer!.Kind is OpKind.Conv2d or OpKind.Reshape
                    ? LoweringContext.RoundUp(t.C, 16)
                    : t.Producer.Input.Root.Storage.ChannelStride;
            s.Floats = (t.H + 2 * s.Pad) * (t.W + 2 * s.Pad) * s.ChannelStride;
        }

        // Gradients mirror their tensor (a zero border as wide, so a convolution's input gradient can be
        // scattered into it without bounds tests), with channels padded to whole vectors. The extra
        // tensors of autodiff (un-pooled activations, pre-activation gradients) are unpadded.
        foreach (TensorValue t in graph.Tensors.Where(t => t.Storage.ViewOf is null && (t.GradOf is not null || t.TrainingOnly)))
        {
            Storage s = t.Storage;
            s.Stored = true;
            TensorValue? of = t.GradOf;
            bool mirror = of is not null && of.Grad == t;
            if (t.Rank != 3)
            {
                s.Kind = StorageKind.Flat;
                s.Floats = t.Elements;
                continue;
            }

            s.Kind = StorageKind.Nhwc;
            s.Pad = mirror ? of!.Root.Storage.Pad : 0;
            s.ChannelStride = LoweringContext.RoundUp(t.C, 16);
            s.Floats = (t.H + 2 * s.Pad) * (t.W + 2 * s.Pad) * s.ChannelStride;
        }
    }
}
