using System.Collections.Generic;

namespace GraphCompiler.Generators.Plan;

/// <summary>
/// A kernel that calls the runtime's row kernels (<c>GraphCompiler.Kernels</c>: GEMM on rows, layer norm,
/// fused attention, embedding, dropout) with this model's shapes and arena offsets as constants. The kernels
/// choose their vector width the way generated loops do (JIT-time constant checks), so one method serves
/// every width. Lines see <c>sample</c> (this sample's arena region) and <c>n</c>; backward lines also see
/// <c>grads</c> and <c>scratch</c>.
/// </summary>
internal sealed class CallPlan : KernelPlan
{
    /// <summary>A backward kernel (the backward signature, with gradients and scratch).</summary>
    public bool Backward { get; set; }
    /// <summary>Lines run once before the sample loop (zeroing a parameter gradient that this kernel writes first).</summary>
    public List<string> Setup { get; } = new();
    /// <summary>Lines run for each sample.</summary>
    public List<string> PerSample { get; } = new();
}

/// <summary>Copies a token input (ints) into its arena slots, which hold the int bits.</summary>
internal sealed class CopyInTokensPlan : KernelPlan
{
    public int Length { get; set; }
    public TensorPlace Destination { get; set; } = null!;
}

/// <summary>A constant table computed into the packed buffer (the sinusoidal positional encoding).</summary>
internal sealed class TablePack : PackPlan
{
    /// <summary>The statement that fills <c>target</c> (the table's place in the packed buffer).</summary>
    public string Statement { get; set; } = "";
}
