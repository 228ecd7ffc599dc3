namespace GraphCompiler;

/// <summary>How a loss combines the per-element (or per-sample) terms, as PyTorch's <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>The average: PyTorch's default (<c>reduction='mean'</c>).</summary>
    Mean,

    /// <summary>The sum (<c>reduction='sum'</c>).</summary>
    Sum,
}
