namespace GraphCompiler;

/// <summary>How a parameter is initialized; the generator picks PyTorch's default for each layer.</summary>
public enum ParameterInit
{
    /// <summary>Uniform in [-Bound, Bound]: PyTorch's kaiming-uniform (a = sqrt(5)) weights and fan-in biases.</summary>
    Uniform,
    /// <summary>Normal with mean 0 and standard deviation Bound.</summary>
    Normal,
    Zeros,
    Ones,
}

/// <summary>
/// One named tensor of a model's parameters: its PyTorch <c>state_dict</c> name and shape, and where it
/// lies in the one contiguous parameter buffer.
/// </summary>
/// <param name="Name">PyTorch name, e.g. <c>conv1.weight</c>.</param>
/// <param name="Shape">PyTorch shape, e.g. [32, 1, 3, 3].</param>
/// <param name="Offset">First element in the parameter buffer (a multiple of 16 floats).</param>
/// <param name="Init">Default initialization.</param>
/// <param name="Bound">Bound of the uniform, or standard deviation of the normal.</param>
public sealed record ParameterInfo(string Name, int[] Shape, int Offset, ParameterInit Init, float Bound)
{
    /// <summary>Number of elements.</summary>
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape)
            {
                n *= d;
            }

            return n;
        }
    }

    /// <summary>The shape as PyTorch prints it, e.g. <c>[32, 1, 3, 3]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
