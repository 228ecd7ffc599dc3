using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using static GraphCompiler.Generators.Ops.RowCalls;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.MultiheadAttention (batch_first, need_weights=False). Shape: query [Tq, E], key and value [Tk, E]
/// -> [Tq, E]. Forward: the three input projections (rows of in_proj_weight), the fused attention kernel
/// (scale, causal and key-padding masks, online softmax and the product with V in one pass over the keys,
/// all heads; dropout of the probabilities in training), then out_proj. Gradient: out_proj's, the fused
/// attention backward (probabilities recomputed from the kept log-sum-exp), then each projection's.
/// </summary>
internal sealed class AttentionOp : IOpRule
{
    public OpKind Kind => OpKind.Attention;

    private static bool Causal(Node node) => node.Constants[0] == 1;

    private static bool Masked(Node node) => node.Constants[1] == 1;

    private static int Pad(Node node) => node.Constants[2];

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        var layer = node.Layer!;
        TensorValue q = node.Inputs[0], k = node.Inputs[1], v = node.Inputs[2];
        foreach ((string role, TensorValue t) in new[] { ("query", q), ("key", k), ("value", v) })
        {
            if (t.Rank != 2 || t.Shape[1] != layer.In)
            {
                diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                    $"{layer.Name}: MultiheadAttention({layer.In}, {layer.Heads}) takes a [length, {layer.In}] {role} per sample, but {t.ShapeText} arrives here");
                return null;
            }
        }

        if (k.Shape[0] != v.Shape[0])
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: key and value must have the same length; key is {k.ShapeText} and value {v.ShapeText}");
            return null;
        }

        if (Masked(node) && node.Inputs[3].Shape[0] != k.Shape[0])
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: the key padding mask covers {node.Inputs[3].Shape[0]} tokens, but the key has {k.Shape[0]} positions; mask the sequence the keys come from");
            return null;
        }

        if (Causal(node) && q.Shape[0] != k.Shape[0])
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: isCausal needs as many queries as keys (self-attention); query {q.ShapeText}, key {k.ShapeText}");
            return null;
        }

        return q.Shape;
    }

    public long Flops(Node node)
    {
        long e = node.Layer!.In, tq = node.Inputs[0].Shape[0], tk = node.Inputs[1].Shape[0];
        return 2 * e * e * (tq + 2 * tk) + 4 * tq * tk * e + 2 * tq * e * e;
    }

    /// <summary>Projections, attention output and log-sum-exp, and their gradients.</summary>
    public static void AddBuffers(Node node, ModelGraph graph)
    {
        int e = node.Layer!.In, tq = node.Inputs[0].Shape[0], tk = node.Inputs[1].Shape[0];
        void Add(string name, int rows, int columns, bool gradient)
        {
            TensorValue t = graph.NewTensor(new[] { rows, columns });
            if (gradient)
            {
                t.GradOf = t; // placed with the gradients, after the forward values
            }

            node.Buffers[name] = t;
        }

        Add("q", tq, e, false);
        Add("k", tk, e, false);
        Add("v", tk, e, false);
        Add("attention", tq, e, false);
        Add("lse", node.Layer.Heads, tq, false);
        Add("dq", tq, e, true);
        Add("dk", tk, e, true);
        Add("dv", tk, e, true);
        Add("dattention", tq, e, true);
    }

    private static string AttentionArguments(Node node)
    {
        var layer = node.Layer!;
        int e = layer.In, heads = layer.Heads, d = e / heads, tq = node.Inputs[0].Shape[0], tk = node.Inputs[1].Shape[0];
        string mask = Masked(node) ? Tokens(node.Inputs[3]) : "null";
        return $"{I(tq)}, {I(tk)}, {I(heads)}, {I(d)}, {F(1.0 / System.Math.Sqrt(d))}, {Bool(Causal(node))}, {mask}, {I(Pad(node))}";
    }

    public void Lower(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int e = layer.In, tq = node.Inputs[0].Shape[0], tk = node.Inputs[1].Shape[0];
        bool bias = layer.Bias;
        string B(int part) => bias ? $"{Parameter(context, layer.Name + ".in_proj_bias")} + {I(part * e)}" : "null";
        var buffers = node.Buffers;
        string comment = $"{layer.Name}: MultiheadAttention({e}, {layer.Heads}{(layer.Real > 0 ? $", Dropout = {F(layer.Real)}" : "")}), query {node.Inputs[0].ShapeText}, key/value {node.Inputs[1].ShapeText}"
            + (Causal(node) ? ", causal" : "") + (Masked(node) ? $", key padding (token {Pad(node)})" : "");
        LinearWeightPack inPack = LinearOp.TransposedPack(context, layer.Name + ".in_proj_weight", 3 * e, e, bias ? layer.Name + ".in_proj_bias" : null);
        LinearWeightPack outPack = LinearOp.TransposedPack(context, layer.Name + ".out_proj.weight", e, e, bias ? layer.Name + ".out_proj.bias" : null);
        int ldIn = inPack.OutFeaturesPadded;
        CallPlan Make(string name, bool training)
        {
            var plan = new CallPlan { Name = name, Comment = comment + (!training ? ", inference" : layer.Real > 0 ? ", training: the probabilities dropped, the log-sum-exp kept" : ", training: the log-sum-exp kept") };
            plan.PerSample.Add("// q, k, v = query, key and value times the column blocks of in_proj_weight^T (packed), plus in_proj_bias");
            string[] inputs = { At(node.Inputs[0]), At(node.Inputs[1]), At(node.Inputs[2]) };
            string[] targets = { At(buffers["q"]), At(buffers["k"]), At(buffers["v"]) };
            int[] rows = { tq, tk, tk };
            for (int part = 0; part < 3; part++)
            {
                plan.PerSample.Add($"{Kernels}Gemm.MultiplyAddBias({inputs[part]}, {I(e)}, packed + {I(inPack.PackedOffset + part * e)}, {I(ldIn)}, {targets[part]}, {I(e)}, {I(rows[part])}, {I(e)}, {I(e)}, {B(part)});");
            }

            plan.PerSample.Add("// softmax(q k^T / sqrt(d) + masks) v per head, in one pass over the keys");
            bool dropout = training && layer.Real > 0;
            string p = dropout ? F(layer.Real) : "0f";
            string seed = dropout ? Seed(context, node) : "0UL";
            string lse = training ? At(buffers["lse"]) : "null"; // only Backward reads the log-sum-exp, and only after a training Forward
            plan.PerSample.Add($"{Kernels}AttentionKernel.Forward({At(buffers["q"])}, {I(e)}, {At(buffers["k"])}, {I(e)}, {At(buffers["v"])}, {I(e)}, {At(buffers["attention"])}, {I(e)}, {AttentionArguments(node)}, {lse}, {p}, {seed});");
            plan.PerSample.Add("// out_proj");
            string outBias = bias ? Parameter(context, layer.Name + ".out_proj.bias") : "null";
            plan.PerSample.Add($"{Kernels}Gemm.MultiplyAddBias({At(buffers["attention"])}, {I(e)}, packed + {I(outPack.PackedOffset)}, {I(outPack.OutFeaturesPadded)}, {At(node.Output)}, {I(e)}, {I(tq)}, {I(e)}, {I(e)}, {outBias});");
            return plan;
        }

        CallPlan forward = Make(context.KernelName(node), false);
        context.Add(forward);
        // Training keeps the log-sum-exp for Backward (and drops probabilities when Dropout > 0); inference does neither.
        context.AddTrainingVariant(forward.Name, Make(forward.Name + "_Train", true));
    }

    public void LowerGradient(Node node, LoweringContext context)
    {
        var layer = node.Layer!;
        int e = layer.In, tq = node.Inputs[0].Shape[0], tk = node.Inputs[1].Shape[0];
        var buffers = node.Buffers;
        var plan = new CallPlan
        {
            Name = context.ForwardOf<CallPlan>(node).Name + "_Grad",
            Comment = $"{layer.Name} backward: out_proj, attention (recomputing the probabilities), in_proj",
            Backward = true,
        };
        string name = layer.Name;
        if (!context.AccumulateParameters(layer))
        {
            plan.Setup.Add(Clear(context, name + ".in_proj_weight", 3 * e * e));
            plan.Setup.Add(Clear(context, name + ".out_proj.weight", e * e));
            if (layer.Bias)
            {
                plan.Setup.Add(Clear(context, name + ".in_proj_bias", 3 * e));
                plan.Setup.Add(Clear(context, name + ".out_proj.bias", e));
            }
        }

        string dy = At(node.Output.Grad!);
        plan.PerSample.Add("// out_proj: dAttention = dY W_out, dW_out += dY^T attention, db_out += column sums of dY");
        plan.PerSample.Add($"{Kernels}Gemm.Multiply({dy}, {I(e)}, {Parameter(context, name + ".out_proj.weight")}, {I(e)}, {At(buffers["dattention"])}, {I(e)}, {I(tq)}, {I(e)}, {I(e)}, false);");
        plan.PerSample.Add($"{Kernels}Gemm.MultiplyTransposedA({dy}, {I(e)}, {At(buffers["attention"])}, {I(e)}, {Gradient(context, name + ".out_proj.weight")}, {I(e)}, {I(tq)}, {I(e)}, {I(e)});");
        if (layer.Bias)
        {
            plan.PerSample.Add($"{Kernels}Gemm.AddColumnSums({dy}, {I(e)}, {I(tq)}, {I(e)}, {Gradient(context, name + ".out_proj.bias")});");
        }

        double p = layer.Real;
        string seed = p > 0 ? Seed(context, node) : "0UL";
        plan.PerSample.Add("// attention: dq, dk, dv from the kept log-sum-exp");
        plan.PerSample.Add($"{Kernels}AttentionKernel.Backward({At(buffers["q"])}, {I(e)}, {At(buffers["k"])}, {I(e)}, {At(buffers["v"])}, {I(e)}, {At(buffers["attention"])}, {I(e)}, {At(buffers["dattention"])}, {I(e)}, {At(buffers["lse"])}, "
            + $"{At(buffers["dq"])}, {I(e)}, {At(buffers["dk"])}, {I(e)}, {At(buffers["dv"])}, {I(e)}, {AttentionArguments(node)}, {F(p)}, {seed}, false);");
        string[] parts = { "dq", "dk", "dv" };
        int[] rows = { tq, tk, tk };
        for (int i = 0; i < 3; i++)
        {
            TensorValue input = node.Inputs[i];
            string d = At(buffers[parts[i]]);
            plan.PerSample.Add($"// in_proj rows {i * e} to {(i + 1) * e - 1} ({(i == 0 ? "query" : i == 1 ? "key" : "value")})");
            if (input.Grad is not null)
            {
                bool accumulate = context.Accumulate(input.Grad);
                plan.PerSample.Add($"{Kernels}Gemm.Multiply({d}, {I(e)}, {Parameter(context, name + ".in_proj_weight")} + {I(i * e * e)}, {I(e)}, {At(input.Grad)}, {I(e)}, {I(rows[i])}, {I(e)}, {I(e)}, {Bool(accumulate)});");
            }

            plan.PerSample.Add($"{Kernels}Gemm.MultiplyTransposedA({d}, {I(e)}, {At(input)}, {I(e)}, {Gradient(context, name + ".in_proj_weight")} + {I(i * e * e)}, {I(e)}, {I(rows[i])}, {I(e)}, {I(e)});");
            if (layer.Bias)
            {
                plan.PerSample.Add($"{Kernels}Gemm.AddColumnSums({d}, {I(e)}, {I(rows[i])}, {I(e)}, {Gradient(context, name + ".in_proj_bias")} + {I(i * e)});");
            }
        }

        context.AddGradient(plan);
    }
}
