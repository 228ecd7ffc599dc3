namespace GraphCompiler;

/// <summary>
/// A layer member of a model (<c>readonly Layer conv1;</c>); its attribute says what it is. In the
/// forward method it is called like a function, <c>conv1(x)</c>. The generator reads the call as
/// syntax; the delegate is never invoked.
/// </summary>
public delegate Tensor Layer(Tensor input);

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

    /// <summary>Softmax over <paramref name="dim"/> (the last dimension by default).</summary>
    public static Tensor Softmax(Tensor x, int dim = -1) => throw Symbolic.NotExecuted();

    /// <summary>Log-softmax over <paramref name="dim"/> (the last dimension by default).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim = -1) => throw Symbolic.NotExecuted();

    /// <summary><c>torch.flatten(x, 1)</c>: every dimension after the batch into one, in PyTorch's order.</summary>
    public static Tensor Flatten(Tensor x) => throw Symbolic.NotExecuted();

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
