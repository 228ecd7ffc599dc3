namespace GraphCompiler.Onnx;

/// <summary>
/// The recurrent nodes of a graph description (LSTM, GRU, RecurrentState) as ONNX LSTM and GRU operators.
/// </summary>
/// <remarks>
/// The description is batch-first and per layer stack: the sequence is [N, T, I], the states [N, L, H], the
/// parameters PyTorch's (<c>weight_ih_l{k}</c> [G*H, in], <c>weight_hh_l{k}</c> [G*H, H], biases [G*H], gates
/// i, f, g, o for the LSTM and r, z, n for the GRU). ONNX's operators are one layer each, sequence-major
/// ([T, N, I] in, Y [T, 1, N, H] out, states [1, N, H]), with W [1, G*H, in], R [1, G*H, H], B [1, 2*G*H] and gates
/// i, o, f, c (LSTM) and z, r, h (GRU). PyTorch's GRU adds the recurrent bias of the candidate before the reset
/// gate multiplies it: ONNX's <c>linear_before_reset = 1</c>. So each layer gets its weights' gate blocks
/// split and joined in ONNX's order, a transpose at the start and the end of the stack, and the layers'
/// final states are kept for the RecurrentState nodes that read them.
/// </remarks>
internal sealed class RecurrentExport(OnnxGraphBuilder b)
{
    /// <summary>For each ONNX gate block, the PyTorch block it is: ONNX i, o, f, c from PyTorch i, f, g, o.</summary>
    private static readonly int[] LstmGates = [0, 3, 1, 2];

    /// <summary>ONNX z, r, h from PyTorch r, z, n.</summary>
    private static readonly int[] GruGates = [1, 0, 2];

    private static readonly long[] SwapFirstTwo = [1, 0, 2];

    /// <summary>Each recurrent node's final states per layer ([1, N, H] each), by the name of its output sequence.</summary>
    private readonly Dictionary<string, (List<string> H, List<string> C)> _states = new(StringComparer.Ordinal);

    /// <summary>An LSTM or GRU node: attributes input size, hidden size, layers, bias (0/1).</summary>
    public void Layer(GraphNode node)
    {
        bool lstm = node.Op == "LSTM";
        int[] a = node.Attributes;
        if (a.Length != 4)
        {
            throw new ArgumentException($"{node.Op} node {node.Output} needs 4 attributes (input size, hidden size, layers, bias), {a.Length} given.", nameof(node));
        }

        int hidden = a[1], layers = a[2];
        bool bias = a[3] != 0;
        int expectedInputs = lstm ? 3 : 2;
        if (node.Inputs.Length != 1 && node.Inputs.Length != expectedInputs)
        {
            throw new ArgumentException(
                $"{node.Op} node {node.Output} takes the sequence{(lstm ? " and optionally h0, c0" : " and optionally h0")}; {node.Inputs.Length} inputs given.",
                nameof(node));
        }

        int[] order = lstm ? LstmGates : GruGates;
        string sequence = b.Transpose(node.Inputs[0], SwapFirstTwo); // [T, N, I]
        string? h0 = node.Inputs.Length > 1 ? b.Transpose(node.Inputs[1], SwapFirstTwo) : null; // [L, N, H]
        string? c0 = node.Inputs.Length > 2 ? b.Transpose(node.Inputs[2], SwapFirstTwo) : null;

        var hn = new List<string>(layers);
        var cn = new List<string>(layers);
        for (int k = 0; k < layers; k++)
        {
            string prefix = node.Layer + ".";
            string suffix = "_l" + k;
            string w = b.Unsqueeze(Reordered(prefix + "weight_ih" + suffix, order), [0]);
            string r = b.Unsqueeze(Reordered(prefix + "weight_hh" + suffix, order), [0]);
            string? bw = bias
                ? b.Unsqueeze(b.Concat([Reordered(prefix + "bias_ih" + suffix, order), Reordered(prefix + "bias_hh" + suffix, order)], 0), [0])
                : null;
            string? initialH = h0 is null ? null : layers == 1 ? h0 : b.Slice(h0, 0, k, k + 1);
            string? initialC = c0 is null ? null : layers == 1 ? c0 : b.Slice(c0, 0, k, k + 1);

            string y;
            if (lstm)
            {
                (y, string yh, string yc) = b.Lstm(sequence, w, r, bw, hidden, initialH, initialC);
                hn.Add(yh);
                cn.Add(yc);
            }
            else
            {
                (y, string yh) = b.Gru(sequence, w, r, bw, hidden, initialH);
                hn.Add(yh);
            }

            sequence = b.Squeeze(y, [1]); // [T, N, H]: one direction
        }

        b.Transpose(sequence, SwapFirstTwo, node.Output);
        _states[node.Output] = (hn, cn);
    }

    /// <summary>A RecurrentState node: attribute 0 for h_n, 1 for c_n, of the layer whose output sequence is its input.</summary>
    public void State(GraphNode node)
    {
        if (!_states.TryGetValue(node.Inputs[0], out (List<string> H, List<string> C) states))
        {
            throw new ArgumentException($"RecurrentState node {node.Output} reads '{node.Inputs[0]}', which is not the output of an LSTM or GRU node before it.", nameof(node));
        }

        List<string> layers = node.Attributes[0] switch
        {
            0 => states.H,
            1 when states.C.Count > 0 => states.C,
            _ => throw new ArgumentException($"RecurrentState node {node.Output}: state {node.Attributes[0]} does not exist (0 is h_n, 1 is c_n of an LSTM).", nameof(node)),
        };

        string stacked = layers.Count == 1 ? layers[0] : b.Concat(layers, 0); // [L, N, H]
        b.Transpose(stacked, SwapFirstTwo, node.Output);
    }

    /// <summary>A PyTorch parameter ([G*H, ...] or [G*H]) with its gate blocks in ONNX's order.</summary>
    private string Reordered(string parameter, int[] order)
    {
        string[] blocks = b.Split(parameter, 0, order.Length);
        return b.Concat(order.Select(g => blocks[g]).ToArray(), 0);
    }
}
