namespace GraphCompiler;

/// <summary>
/// A layer member of a model (<c>readonly Layer conv1;</c>); its attribute says what it is. In the
/// forward method it is called like a function, <c>conv1(x)</c>. The generator reads the call as
/// syntax; the delegate is never invoked.
/// </summary>
public delegate Tensor Layer(Tensor input);

/// <summary>
/// An LSTM member (<c>[Lstm(28, 128, NumLayers = 2)] readonly LstmLayer lstm;</c>), called as in PyTorch:
/// <c>var (output, (hn, cn)) = lstm(x);</c> or <c>lstm(x, (h0, c0))</c>. Initial states are zero unless
/// given; each is [num_layers, hidden_size] per sample.
/// </summary>
public delegate (Tensor Output, (Tensor H, Tensor C) State) LstmLayer(Tensor input, (Tensor H, Tensor C)? state = null);

/// <summary>
/// A GRU member (<c>[Gru(28, 128)] readonly GruLayer gru;</c>), called as in PyTorch:
/// <c>var (output, hn) = gru(x);</c> or <c>gru(x, h0)</c>. The initial state is zero unless given.
/// </summary>
public delegate (Tensor Output, Tensor H) GruLayer(Tensor input, Tensor? state = null);

/// <summary>
/// The symbolic tensor of a forward definition. The generator reads expressions over it at compile
/// time; none of its members run. Shapes follow PyTorch: the first dimension is the batch.
/// </summary>
public sealed class Tensor
{
    private Tensor()
    {
    }

    public static Tensor operator +(Tensor left, Tensor right) => throw Symbolic.NotExecuted();

    public static Tensor operator *(Tensor left, Tensor right) => throw Symbolic.NotExecuted();

    /// <summary><c>x * 8f</c>: every element times a compile-time constant (the embedding scale sqrt(d_model)).</summary>
    public static Tensor operator *(Tensor left, double scale) => throw Symbolic.NotExecuted();

    /// <summary>
    /// <c>x[.., i]</c>, PyTorch's <c>x[:, i]</c>: step (or row) <paramref name="index"/> of every sample, dropping
    /// that dimension. <c>^1</c> or <c>-1</c> is the last. The index is a compile-time constant.
    /// </summary>
    public Tensor this[Range batch, Index index] => throw Symbolic.NotExecuted();

    /// <summary><c>x[.., ^1, ..]</c>, PyTorch's <c>out[:, -1, :]</c>: as <c>x[.., i]</c>.</summary>
    public Tensor this[Range batch, Index index, Range rest] => throw Symbolic.NotExecuted();
}

/// <summary>
/// Functional operations of a forward definition (PyTorch's <c>F.relu</c>, <c>torch.flatten</c>, ...).
/// Bring them in with <c>using static GraphCompiler.Ops;</c>. Dimensions are numbered as in PyTorch,
/// the batch being dimension 0.
/// </summary>
public static class Ops
{
    public static Tensor Relu(Tensor x) => throw Symbolic.NotExecuted();

    public static Tensor Tanh(Tensor x) => throw Symbolic.NotExecuted();

    public static Tensor Sigmoid(Tensor x) => throw Symbolic.NotExecuted();

    /// <summary>GELU, as <c>F.gelu</c> (the exact erf form).</summary>
    public static Tensor Gelu(Tensor x) => throw Symbolic.NotExecuted();

    /// <summary>
    /// <c>F.dropout(x, p, training)</c>: in training mode each element is zeroed with probability <paramref name="p"/>
    /// and the others scaled by 1/(1-p), from the workspace's seeded generator; in inference it is the identity.
    /// </summary>
    public static Tensor Dropout(Tensor x, double p) => throw Symbolic.NotExecuted();

    /// <summary>
    /// <c>x + pe[:length]</c>: adds the sinusoidal positional encoding of "Attention Is All You Need" to a
    /// [length, d_model] tensor (pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(p / 10000^(2i/d))).
    /// </summary>
    public static Tensor PositionalEncoding(Tensor x) => throw Symbolic.NotExecuted();

    /// <summary>Softmax over <paramref name="dim"/> (the last dimension by default).</summary>
    public static Tensor Softmax(Tensor x, int dim = -1) => throw Symbolic.NotExecuted();

    /// <summary>Log-softmax over <paramref name="dim"/> (the last dimension by default).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1) => throw Symbolic.NotExecuted();

    /// <summary><c>torch.flatten(x, 1)</c>: every dimension after the batch into one, in PyTorch's order.</summary>
    public static Tensor Flatten(Tensor x) => throw Symbolic.NotExecuted();

    /// <summary>
    /// <c>torch.select(x, dim, index)</c>: one entry of dimension <paramref name="dim"/> (1 or more; the batch is 0),
    /// which is dropped; a negative index counts from the end.
    /// </summary>
    public static Tensor Select(Tensor x, int dim, int index) => throw Symbolic.NotExecuted();

    /// <summary>
    /// <c>x.view(-1, ...)</c>: the first entry is the batch and must be -1; the others are constants whose
    /// product is the sample size.
    /// </summary>
    public static Tensor Reshape(Tensor x, params int[] shape) => throw Symbolic.NotExecuted();
}

internal static class Symbolic
{
    internal static InvalidOperationException NotExecuted() => new(
        "GraphCompiler tensors are symbolic: a [Forward] method is read by the generator at compile time and " +
        "never runs. Call the generated Forward(ReadOnlySpan<float>, Span<float>) instead.");
}
