using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// What the compiler knows of one op: its shape rule and its forward lowering, side by side in the op's
/// own file.
/// </summary>
internal interface IOpRule
{
    OpKind Kind { get; }

    /// <summary>The per-sample output shape, or null after reporting why the input does not fit.</summary>
    int[]? InferShape(Node node, DiagnosticBag diagnostics);

    /// <summary>Floating-point operations per sample (a multiply-add counts two).</summary>
    long Flops(Node node);

    /// <summary>Adds the kernels that compute the node (fused epilogues included) to the plan.</summary>
    void Lower(Node node, LoweringContext context);

    /// <summary>
    /// The gradient rule: adds the backward kernels that turn the gradient of the node's output into the
    /// gradients of its inputs and parameters. Called in reverse execution order, after <see cref="Lower"/>.
    /// </summary>
    void LowerGradient(Node node, LoweringContext context);
}
