namespace GraphCompiler.Onnx;

/// <summary>
/// The nodes of token models (a Transformer's) as standard ONNX operators: Embedding, Scale,
/// PositionalEncoding, Dropout, LayerNorm, Attention, Gelu and Linear on rows.
/// </summary>
/// <remarks>
/// Activations are batch-first, [N, L, E]; the token inputs are int64 [N, L]. Attention is
/// <c>nn.MultiheadAttention</c>'s arithmetic: the projections through slices of <c>in_proj_weight</c> (one
/// MatMul of the transposed whole matrix when query, key and value are one tensor), heads split by
/// Reshape and Transpose, the query scaled by 1/sqrt(head size), the causal mask a constant additive -inf
/// upper triangle, the key padding mask <c>Where(Equal(tokens, pad), -inf, 0)</c> broadcast over heads and
/// queries, Softmax over the keys, then <c>out_proj</c>. The weights keep PyTorch's names and layouts; the
/// slices and transposes are nodes of the graph, which ONNX Runtime folds at load.
/// </remarks>
internal sealed class TransformerExport(OnnxGraphBuilder b, IReadOnlyDictionary<string, int[]> shapes)
{
    /// <summary>The additive key padding mask [N, 1, 1, L] of each (token input, pad token).</summary>
    private readonly Dictionary<(string Tokens, int Pad), string> _paddingMasks = new();

    /// <summary>The causal mask [Lq, Lk] of each pair of lengths.</summary>
    private readonly Dictionary<(int Queries, int Keys), string> _causalMasks = new();

    /// <summary>The sinusoidal table [L, E] of each shape.</summary>
    private readonly Dictionary<(int Length, int Dim), string> _tables = new();

    public static bool Handles(string op) => op is "Embedding" or "Scale" or "PositionalEncoding" or "Dropout" or "LayerNorm" or "Attention" or "Gelu";

    public void Add(GraphNode node)
    {
        int[] a = node.Attributes;
        string x = node.Inputs[0];
        string output = node.Output;
        switch (node.Op)
        {
            case "Embedding":
                b.Gather(node.Layer + ".weight", x, output);
                break;
            case "Scale":
                b.Mul(x, b.FloatConstant("scale", BitConverter.Int32BitsToSingle(a[0])), output);
                break;
            case "PositionalEncoding":
                b.Add(x, Table(node.Shape[^2], node.Shape[^1]), output);
                break;
            case "Dropout":
                b.Identity(x, output);
                break;
            case "LayerNorm":
                b.LayerNormalization(x, node.Layer + ".weight", node.Layer + ".bias", BitConverter.Int32BitsToSingle(a[1]), output);
                break;
            case "Gelu":
                // Exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))).
                string erf = b.Node("Erf", [b.Mul(x, b.FloatConstant("inv_sqrt2", (float)(1 / Math.Sqrt(2))))], (string?)null);
                string half = b.Mul(b.Add(erf, b.FloatConstant("one", 1f)), b.FloatConstant("half", 0.5f));
                b.Mul(x, half, output);
                break;
            case "Attention":
                Attention(node);
                break;
            default:
                throw new NotSupportedException($"ONNX export does not know the op '{node.Op}' (node {node.Output}).");
        }
    }

    /// <summary><c>nn.Linear</c> on the rows of [N, ..., in]: MatMul with the transposed weight, then the bias.</summary>
    public static string LinearRows(OnnxGraphBuilder b, string x, string weight, string? bias, string? output)
    {
        string product = b.MatMul(x, b.Transpose(weight, [1, 0]), bias is null ? output : null);
        return bias is null ? product : b.Add(product, bias, output);
    }

    /// <summary>
    /// Attention: attributes embed dim, heads, causal, key padding, pad token, bias, dropout bits; inputs query,
    /// key, value and, with key padding, the token input whose pad tokens are masked.
    /// </summary>
    private void Attention(GraphNode node)
    {
        int[] a = node.Attributes;
        if (a.Length < 6 || node.Inputs.Length < 3)
        {
            throw new ArgumentException($"Attention node {node.Output} needs the attributes embed, heads, causal, masked, pad, bias and the inputs q, k, v.", nameof(node));
        }

        int embed = a[0], heads = a[1], head = embed / heads;
        bool causal = a[2] != 0, masked = a[3] != 0, bias = a[5] != 0;
        string layer = node.Layer!;
        string query = node.Inputs[0], key = node.Inputs[1], value = node.Inputs[2];
        int queries = node.Shape[^2], keys = Shape(key)[^2];
        string weight = layer + ".in_proj_weight";
        string? inBias = bias ? layer + ".in_proj_bias" : null;

        string q, k, v;
        if (query == key && key == value)
        {
            // Self-attention: one projection by the whole in_proj_weight, cut into q, k, v on the last axis.
            string qkv = LinearRows(b, query, weight, inBias, null);
            string[] parts = b.Split(qkv, -1, 3);
            (q, k, v) = (parts[0], parts[1], parts[2]);
        }
        else
        {
            string[] weights = b.Split(weight, 0, 3);
            string[]? biases = inBias is null ? null : b.Split(inBias, 0, 3);
            q = LinearRows(b, query, weights[0], biases?[0], null);
            k = LinearRows(b, key, weights[1], biases?[1], null);
            v = LinearRows(b, value, weights[2], biases?[2], null);
        }

        // [N, L, E] -> [N, H, L, D] (keys: [N, H, D, L]).
        q = b.Transpose(b.Reshape(q, [0, 0, heads, head]), [0, 2, 1, 3]);
        k = b.Transpose(b.Reshape(k, [0, 0, heads, head]), [0, 2, 3, 1]);
        v = b.Transpose(b.Reshape(v, [0, 0, heads, head]), [0, 2, 1, 3]);
        q = b.Mul(q, b.FloatConstant("attention_scale", (float)(1 / Math.Sqrt(head))));
        string scores = b.MatMul(q, k); // [N, H, Lq, Lk]
        if (causal)
        {
            scores = b.Add(scores, CausalMask(queries, keys));
        }

        if (masked)
        {
            if (node.Inputs.Length < 4)
            {
                throw new ArgumentException($"Attention node {node.Output} masks key padding but names no token input.", nameof(node));
            }

            scores = b.Add(scores, PaddingMask(node.Inputs[3], a[4]));
        }

        string weights2 = b.Softmax(scores, -1);
        string context = b.MatMul(weights2, v); // [N, H, Lq, D]
        context = b.Reshape(b.Transpose(context, [0, 2, 1, 3]), [0, 0, embed]);
        LinearRows(b, context, layer + ".out_proj.weight", bias ? layer + ".out_proj.bias" : null, node.Output);
    }

    private int[] Shape(string value) =>
        shapes.TryGetValue(value, out int[]? shape) ? shape : throw new ArgumentException($"The shape of '{value}' is unknown.");

    private string CausalMask(int queries, int keys)
    {
        if (!_causalMasks.TryGetValue((queries, keys), out string? name))
        {
            var mask = new float[queries * keys];
            for (int i = 0; i < queries; i++)
            {
                for (int j = i + 1; j < keys; j++)
                {
                    mask[i * keys + j] = float.NegativeInfinity;
                }
            }

            name = b.FloatConstant("causal_mask", mask, queries, keys);
            _causalMasks.Add((queries, keys), name);
        }

        return name;
    }

    private string PaddingMask(string tokens, int pad)
    {
        if (!_paddingMasks.TryGetValue((tokens, pad), out string? name))
        {
            string isPad = b.Node("Equal", [tokens, b.Int64Scalar("pad", pad)], (string?)null);
            string additive = b.Node("Where", [isPad, b.FloatConstant("minus_inf", float.NegativeInfinity), b.FloatConstant("zero", 0f)], (string?)null);
            name = b.Unsqueeze(additive, [1, 2]); // [N, 1, 1, L]
            _paddingMasks.Add((tokens, pad), name);
        }

        return name;
    }

    /// <summary>The sinusoidal table [length, dim], computed in double as the generated kernels' (EmbeddingKernel.Sinusoidal).</summary>
    private string Table(int length, int dim)
    {
        if (!_tables.TryGetValue((length, dim), out string? name))
        {
            var table = new float[length * dim];
            for (int p = 0; p < length; p++)
            {
                for (int c = 0; c < dim; c++)
                {
                    int even = c & ~1;
                    double angle = p / Math.Pow(10000.0, (double)even / dim);
                    table[p * dim + c] = (float)((c & 1) == 0 ? Math.Sin(angle) : Math.Cos(angle));
                }
            }

            name = b.FloatConstant("positional_encoding", table, length, dim);
            _tables.Add((length, dim), name);
        }

        return name;
    }
}
