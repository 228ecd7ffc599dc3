namespace GraphCompiler;

/// <summary>
/// One operation of a model's graph as declared (before fusion), in PyTorch's terms: shapes are per
/// sample in PyTorch's order (the batch is implicit).
/// </summary>
/// <param name="Op">
/// Conv2d, MaxPool2d, AvgPool2d, Linear, Relu, Tanh, Sigmoid, Softmax, LogSoftmax, Flatten, Reshape, Add, Mul,
/// LSTM, GRU, RecurrentState, Select, Embedding, LayerNorm, Attention, Dropout, Gelu, Scale, PositionalEncoding.
/// </param>
/// <param name="Layer">The layer member for layer calls (its parameters are <c>Layer.weight</c>, <c>Layer.bias</c>), else null.</param>
/// <param name="Inputs">Names of the input tensors.</param>
/// <param name="Output">Name of the output tensor.</param>
/// <param name="Shape">Per-sample output shape.</param>
/// <param name="Attributes">
/// Conv2d: kernel, stride, padding, dilation, bias (0/1). Pools: kernel, stride, padding. Linear: in, out,
/// bias (0/1). Softmax, LogSoftmax: the dimension (batch = 0, -1 = last). Reshape: the target shape with
/// the batch as -1. LSTM, GRU: input size, hidden size, layers, bias (0/1); their inputs are the sequence and,
/// when given, the initial states (h0, c0 for LSTM; h0 for GRU), each [layers, hidden]; their output is the
/// last layer's hidden state at every step, [T, hidden]. RecurrentState: 0 for h_n, 1 for c_n, of the
/// recurrent layer <c>Layer</c> whose output sequence is its input; shape [layers, hidden]. Select: the
/// dimension (batch = 0) and the index (non-negative). Embedding: vocabulary, dimension (the input is a token
/// input). LayerNorm: size, eps as float bits. Attention (nn.MultiheadAttention, parameters <c>Layer.in_proj_weight</c>
/// ...): embed dim, heads, causal (0/1), key padding (0/1), pad token, bias (0/1), dropout as float bits; inputs
/// query, key, value and, with key padding, the token input whose pad tokens are masked. Dropout: p as float bits
/// (the identity in inference). Scale: the factor as float bits. PositionalEncoding: none (adds the sinusoidal
/// table of the input's [length, d_model]). Others: none. Float bits are <c>BitConverter.SingleToInt32Bits</c>.
/// </param>
public sealed record GraphNode(string Op, string? Layer, string[] Inputs, string Output, int[] Shape, int[] Attributes);

/// <summary>
/// A model's graph: its input, its output and its operations in execution order. A model of token inputs (a
/// Transformer's source and target) lists them all in <paramref name="TokenInputs"/>; <paramref name="Input"/> is the first.
/// </summary>
public sealed record GraphDescription(string Input, int[] InputShape, string Output, int[] OutputShape, GraphNode[] Nodes, GraphInput[]? TokenInputs = null);

/// <summary>A token input: its name and its per-sample shape ([length]); its values are integer token ids.</summary>
public sealed record GraphInput(string Name, int[] Shape);
