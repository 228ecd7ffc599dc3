using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Ops;

namespace GraphCompiler.Generators.Passes;

/// <summary>
/// Folds work into the loops of the producing op, so the intermediate tensors are never written:
/// activation into a Conv2d/Linear epilogue; a k x k, stride-k pool into a Conv2d epilogue; a Flatten
/// consumed only by Linears into a permuted weight.
/// </summary>
internal static class Fusion
{
    /// <summary>Pool windows up to 3x3 keep the fused tile's accumulators in registers at every width.</summary>
    private const int MaxFusedPoolKernel = 3;

    public static void Run(ModelGraph graph)
    {
        // embedding -> constant scale (the sqrt(d_model) of the Transformer): rows are scaled as they are copied
        foreach (Node embedding in graph.Nodes.Where(n => n.Kind == OpKind.Embedding))
        {
            if (SoleConsumer(graph, embedding.Output) is { Kind: OpKind.Scale } scale)
            {
                embedding.Real = scale.Real;
                Absorb(embedding, scale);
            }
        }

        // Linears on rows ([length, features]) run as GEMM calls without an epilogue.
        foreach (Node node in graph.Nodes.Where(n => n.Kind is OpKind.Conv2d || (n.Kind == OpKind.Linear && n.Input.Rank == 1)))
        {
            // conv/linear -> activation
            if (SoleConsumer(graph, node.Output) is { Kind: OpKind.Relu or OpKind.Tanh or OpKind.Sigmoid } activation)
            {
                node.Epilogue = ActivationOp.ToActivation(activation.Kind);
                Absorb(node, activation);
            }

            // conv (+activation) -> pool with kernel == stride, no padding, exact tiling
            if (node.Kind == OpKind.Conv2d
                && SoleConsumer(graph, node.Output) is { Kind: OpKind.MaxPool2d or OpKind.AvgPool2d } pool
                && pool.Layer!.Kernel == pool.Layer.Stride && pool.Layer.Padding == 0 && pool.Layer.Kernel <= MaxFusedPoolKernel
                && node.Output.H % pool.Layer.Kernel == 0 && node.Output.W % pool.Layer.Kernel == 0)
            {
                node.FusedPool = pool;
                Absorb(node, pool);
            }
        }

        // Flatten of a channels-last tensor read by Linears only: no copy, the Linear permutes its weight.
        foreach (Node flatten in graph.Nodes.Where(n => n.Kind is OpKind.Flatten or OpKind.Reshape && !n.Fused))
        {
            TensorValue output = flatten.Output;
            if (flatten.Input.Rank == 3 && output.Rank == 1 && output != graph.Output
                && output.Consumers.Count > 0 && output.Consumers.All(c => c.Kind == OpKind.Linear))
            {
                output.Storage.ViewOf = flatten.Input;
                foreach (Node linear in output.Consumers)
                {
                    linear.ReadsNhwcOf = flatten.Input;
                }
            }
        }
    }

    private static Node? SoleConsumer(ModelGraph graph, TensorValue tensor) =>
        tensor.Consumers.Count == 1 && tensor != graph.Output ? tensor.Consumers[0] : null;

    /// <summary>The consumer's work moves into <paramref name="producer"/>, which now writes the consumer's output.</summary>
    private static void Absorb(Node producer, Node consumer)
    {
        consumer.Fused = true;
        TensorValue result = consumer.Output;
        result.Producer = producer;
        producer.Output = result;
    }
}
