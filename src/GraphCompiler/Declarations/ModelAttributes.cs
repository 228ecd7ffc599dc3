namespace GraphCompiler;

/// <summary>
/// Marks a <c>partial</c> class as a network that the generator compiles: its layer members and its
/// <see cref="ForwardAttribute"/> method are read at compile time and lowered to shape-specialized code.
/// Reads like PyTorch's <c>nn.Module</c>; the generated members are <c>Forward(input, output)</c>,
/// <c>Parameters</c>, <c>Summary</c> and the size constants.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
}

/// <summary>
/// Marks a <c>partial</c> class as a reusable block (an encoder layer, a decoder layer) that a
/// <see cref="ModelAttribute"/> class can hold as a member, as <c>nn.Module</c>s nest in PyTorch.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ModuleAttribute : Attribute
{
}

/// <summary>
/// Marks the definition method of a model: ordinary C# over the symbolic <see cref="Tensor"/> that the
/// generator reads as syntax. It is never executed.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ForwardAttribute : Attribute
{
}

/// <summary>
/// The shape of one sample of a forward input, without the batch dimension, in PyTorch's order
/// (<c>[Shape(1, 28, 28)]</c> is one channel of 28x28). Every dimension is a compile-time constant;
/// the batch is chosen at run time.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class ShapeAttribute : Attribute
{
    public ShapeAttribute(params int[] dimensions) => Dimensions = dimensions;

    public int[] Dimensions { get; }
}
