using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;

namespace GraphCompiler.Generators.Passes;

/// <summary>
/// Reverse mode: gives every tensor of the (fused) graph a gradient tensor of the same shape, and the
/// Conv2d/Linear nodes the extra tensors their gradient rules read: the un-pooled activations (stored by
/// the training forward) and the gradient before the activation. The op files' gradient rules then lower
/// the backward steps, in reverse order, through the same planning and emitter as the forward.
/// </summary>
internal static class Autodiff
{
    public static void Run(ModelGraph graph)
    {
        List<Node> live = graph.Live.ToList();
        var stored = new HashSet<TensorValue>(graph.Inputs.Concat(live.Select(n => n.Output)));

        // Which tensors have a parameter upstream (their gradient feeds a parameter gradient)?
        var hasParameterUpstream = new HashSet<TensorValue>();
        foreach (Node node in live)
        {
            if (node.Layer is { Kind: Spec.LayerKind.Conv2d or Spec.LayerKind.Linear or Spec.LayerKind.Lstm or Spec.LayerKind.Gru
                    or Spec.LayerKind.Embedding or Spec.LayerKind.LayerNorm or Spec.LayerKind.MultiheadAttention or Spec.LayerKind.PositionalEmbedding }
                || node.Inputs.Any(i => hasParameterUpstream.Contains(i.Root)))
            {
                hasParameterUpstream.Add(node.Output);
            }
        }

        foreach (TensorValue t in stored.Where(t => !t.IsTokens)) // tokens are integers: no gradient
        {
            TensorValue grad = graph.NewTensor(t.Shape);
            grad.GradOf = t;
            // A gradient only serves the input gradient when no parameter lies upstream of the tensor.
            grad.InputGradientOnly = !hasParameterUpstream.Contains(t.Root);
            t.Grad = grad;
        }

        // Views share their gradient's memory the way they share the value's.
        foreach (TensorValue t in stored.Where(t => t.Storage.ViewOf is not null))
        {
            t.Grad!.Storage.ViewOf = t.Storage.ViewOf!.Grad;
        }

        foreach (Node node in live.Where(n => n.Kind is OpKind.Conv2d || (n.Kind == OpKind.Linear && n.Input.Rank == 1)))
        {
            int[] pre = node.Kind == OpKind.Conv2d ? Ops.Conv2dOp.ConvShape(node) : new[] { node.Layer!.Out };
            if (node.FusedPool is not null)
            {
                node.Activated = graph.NewTensor(pre);
                node.Activated.TrainingOnly = true;
            }

            node.GradPre = graph.NewTensor(pre);
            node.GradPre.GradOf = node.Activated ?? node.Output;
        }
    }

}
