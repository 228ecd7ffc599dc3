using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Ops;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Plan;

/// <summary>
/// Incremental decoding for a model of two token inputs (source, target) whose result has one row per
/// target position (a Transformer's log-probabilities): the work that does not depend on the target (the
/// encoder, and the keys and values that cross-attention projects from its output) runs once; then each new
/// target token costs one row of every op that does depend on it. Self-attention keeps the key and value
/// rows of earlier positions in its arena buffers, which are thereby the key/value cache.
/// </summary>
internal static class DecodePlanner
{
    public static DecodePlan? Plan(ModelGraph graph, ModelPlan plan, LoweringContext context)
    {
        if (graph.Inputs.Count != 2 || !graph.Inputs.All(i => i.IsTokens))
        {
            return null;
        }

        TensorValue target = graph.Inputs[1], output = graph.Output!;
        if (output.Rank != 2 || output.Shape[0] != target.Shape[0])
        {
            return null;
        }

        // Which tensors depend on the target tokens (in execution order, so producers come first).
        var dependent = new HashSet<TensorValue> { target };
        List<Node> live = graph.Live.ToList();
        foreach (Node node in live)
        {
            if (node.Inputs.Any(i => dependent.Contains(i.Root)))
            {
                dependent.Add(node.Output);
            }
        }

        var decode = new DecodePlan { OutputRow = output.Shape[1] };
        foreach (Node node in live)
        {
            if (!dependent.Contains(node.Output))
            {
                decode.PrefixKernels.Add(context.ForwardOf<KernelPlan>(node));
                continue;
            }

            if (!RowLines(node, context, dependent, decode))
            {
                return null; // an op without a row form: no incremental decoding for this model
            }
        }

        return decode;
    }

    private static string Row(TensorValue t, int rowFloats) => $"{At(t)} + row * {I(rowFloats)}";

    /// <summary>One row of a node's work, for position <c>row</c>; false when the op has no row form.</summary>
    private static bool RowLines(Node node, LoweringContext context, HashSet<TensorValue> dependent, DecodePlan decode)
    {
        List<string> lines = decode.RowLines;
        TensorValue x = node.Input, y = node.Output;
        int width = y.Rank == 2 ? y.Shape[1] : 0;
        if (width == 0 && node.Kind != OpKind.Embedding)
        {
            return false;
        }

        lines.Add($"// {(node.Layer is null ? node.Kind.ToString() : $"{node.Layer.Name} ({node.Kind})")}: row of {y.ShapeText}");
        switch (node.Kind)
        {
            case OpKind.Embedding:
                lines.Add($"{Kernels}EmbeddingKernel.Forward({Tokens(x)} + row, 1, {Parameter(context, node.Layer!.Name + ".weight")}, {I(node.Layer.Out)}, {F(EmbeddingOp.ScaleOf(node))}, null, {Row(y, node.Layer.Out)});");
                return true;
            case OpKind.PositionalEncoding:
                lines.Add($"{Kernels}Pointwise.Add({Row(x, width)}, packed + {I(context.SinusoidalTable(x.Shape[0], x.Shape[1]))} + row * {I(width)}, {Row(y, width)}, {I(width)});");
                return true;

            case OpKind.PositionalEmbedding:
                lines.Add($"{Kernels}Pointwise.Add({Row(x, width)}, {Parameter(context, node.Layer!.Name + ".weight")} + row * {I(width)}, {Row(y, width)}, {I(width)});");
                return true;
            case OpKind.Scale:
                lines.Add($"{Kernels}Pointwise.Scale({Row(x, width)}, {Row(y, width)}, {I(width)}, {F(node.Real)});");
                return true;
            case OpKind.Dropout:
                lines.Add($"new global::System.ReadOnlySpan<float>({Row(x, width)}, {I(width)}).CopyTo(new global::System.Span<float>({Row(y, width)}, {I(width)}));");
                return true;
            case OpKind.Relu:
                lines.Add($"{Kernels}Pointwise.Relu({Row(x, width)}, {Row(y, width)}, {I(width)});");
                return true;
            case OpKind.Gelu:
                lines.Add($"{Kernels}ActivationKernel.Gelu({Row(x, width)}, {Row(y, width)}, {I(width)});");
                return true;
            case OpKind.Add:
                lines.Add($"{Kernels}Pointwise.Add({Row(node.Inputs[0], width)}, {Row(node.Inputs[1], width)}, {Row(y, width)}, {I(width)});");
                return true;
            case OpKind.LogSoftmax:
                lines.Add($"{Kernels}SoftmaxKernel.LogSoftmax({Row(x, width)}, {Row(y, width)}, 1, {I(width)});");
                return true;
            case OpKind.LayerNorm:
                lines.Add($"{Kernels}LayerNormKernel.Forward({Row(x, width)}, {Row(y, width)}, 1, {I(width)}, {Parameter(context, node.Layer!.Name + ".weight")}, {Parameter(context, node.Layer.Name + ".bias")}, {F(node.Layer.Eps)}, null);");
                return true;
            case OpKind.Linear when x.Rank == 2:
                {
                    var layer = node.Layer!;
                    string bias = layer.Bias ? Parameter(context, layer.Name + ".bias") : "null";
                    lines.Add($"{Kernels}Gemm.MultiplyTransposedB({Row(x, layer.In)}, {I(layer.In)}, {Parameter(context, layer.Name + ".weight")}, {I(layer.In)}, {Row(y, layer.Out)}, {I(layer.Out)}, 1, {I(layer.In)}, {I(layer.Out)}, {bias}, false);");
                    return true;
                }

            case OpKind.Attention:
                return AttentionRow(node, context, dependent, decode);
            default:
                return false;
        }
    }

    /// <summary>
    /// Query row <c>row</c> against the keys so far: a self-attention projects this position's key and value
    /// into its buffers first (the cache); a cross-attention's keys and values are projected once, in the prefix.
    /// </summary>
    private static bool AttentionRow(Node node, LoweringContext context, HashSet<TensorValue> dependent, DecodePlan decode)
    {
        var layer = node.Layer!;
        int e = layer.In, heads = layer.Heads, d = e / heads;
        TensorValue q = node.Inputs[0], k = node.Inputs[1], v = node.Inputs[2];
        bool causal = node.Constants[0] == 1, masked = node.Constants[1] == 1;
        int tk = k.Shape[0];
        string w = Parameter(context, layer.Name + ".in_proj_weight");
        string B(int part) => layer.Bias ? $"{Parameter(context, layer.Name + ".in_proj_bias")} + {I(part * e)}" : "null";
        var buffers = node.Buffers;
        bool keysVary = dependent.Contains(k.Root) || dependent.Contains(v.Root);
        if (keysVary && (!causal || !dependent.Contains(k.Root) || !dependent.Contains(v.Root) || k.Shape[0] != q.Shape[0]))
        {
            return false; // keys that change with the target must be causal self-attention to be cached row by row
        }

        var lines = decode.RowLines;
        lines.Add($"{Kernels}Gemm.MultiplyTransposedB({Row(q, e)}, {I(e)}, {w}, {I(e)}, {Row(buffers["q"], e)}, {I(e)}, 1, {I(e)}, {I(e)}, {B(0)}, false);");
        if (keysVary)
        {
            lines.Add($"{Kernels}Gemm.MultiplyTransposedB({Row(k, e)}, {I(e)}, {w} + {I(e * e)}, {I(e)}, {Row(buffers["k"], e)}, {I(e)}, 1, {I(e)}, {I(e)}, {B(1)}, false); // cache this position's key");
            lines.Add($"{Kernels}Gemm.MultiplyTransposedB({Row(v, e)}, {I(e)}, {w} + {I(2 * e * e)}, {I(e)}, {Row(buffers["v"], e)}, {I(e)}, 1, {I(e)}, {I(e)}, {B(2)}, false); // and value");
        }
        else
        {
            var prefix = new List<string>
            {
                $"// {layer.Name}: keys and values of the fixed sequence, once",
                $"{Kernels}Gemm.MultiplyTransposedB({At(k)}, {I(e)}, {w} + {I(e * e)}, {I(e)}, {At(buffers["k"])}, {I(e)}, {I(tk)}, {I(e)}, {I(e)}, {B(1)}, false);",
                $"{Kernels}Gemm.MultiplyTransposedB({At(v)}, {I(e)}, {w} + {I(2 * e * e)}, {I(e)}, {At(buffers["v"])}, {I(e)}, {I(tk)}, {I(e)}, {I(e)}, {B(2)}, false);",
            };
            decode.PrefixLines.AddRange(prefix);
        }

        string keys = keysVary ? "row + 1" : I(tk); // causal: the keys up to this position
        string mask = masked ? Tokens(node.Inputs[3]) : "null";
        lines.Add($"{Kernels}AttentionKernel.Forward({Row(buffers["q"], e)}, {I(e)}, {At(buffers["k"])}, {I(e)}, {At(buffers["v"])}, {I(e)}, {Row(buffers["attention"], e)}, {I(e)}, 1, {keys}, {I(heads)}, {I(d)}, {F(1.0 / System.Math.Sqrt(d))}, false, {mask}, {I(node.Constants[2])}, null, 0f, 0UL);");
        string outBias = layer.Bias ? Parameter(context, layer.Name + ".out_proj.bias") : "null";
        lines.Add($"{Kernels}Gemm.MultiplyTransposedB({Row(buffers["attention"], e)}, {I(e)}, {Parameter(context, layer.Name + ".out_proj.weight")}, {I(e)}, {Row(node.Output, e)}, {I(e)}, 1, {I(e)}, {I(e)}, {outBias}, false);");
        return true;
    }
}

/// <summary>The incremental decoder of a model: what runs once per source, and the lines of one target row.</summary>
internal sealed class DecodePlan
{
    /// <summary>Floats of one row of the result (the vocabulary).</summary>
    public int OutputRow { get; set; }
    /// <summary>Extra once-per-source lines (cross-attention keys and values), per sample.</summary>
    public List<string> PrefixLines { get; } = new();
    /// <summary>Per sample, the lines that compute row <c>row</c> of every target-dependent tensor.</summary>
    public List<string> RowLines { get; } = new();
    /// <summary>The forward kernels of the nodes that do not depend on the target: they run once per source.</summary>
    public List<KernelPlan> PrefixKernels { get; } = new();
    public int TargetOffset { get; set; }
    public int OutputOffset { get; set; }
}
