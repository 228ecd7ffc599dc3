using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. IDs are stable: never renumber, only add. Each message says
/// what is wrong and how to fix it.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "GraphCompiler";

    public static readonly DiagnosticDescriptor ShapeMismatch = new(
        "GC0001",
        "Layer input does not match the declared size",
        "{0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A layer's declared input size must equal the size of the tensor that reaches it.");

    public static readonly DiagnosticDescriptor NotConstant = new(
        "GC0002",
        "Value must be a compile-time constant",
        "'{0}' must be a compile-time constant: every non-batch dimension and hyperparameter is fixed when the model is compiled; use a literal or a const",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedConstruct = new(
        "GC0003",
        "Unsupported construct in a forward method",
        "{0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A forward method may hold tensor locals, assignments, layer calls, the functional ops of GraphCompiler.Ops, + and *, and a return.");

    public static readonly DiagnosticDescriptor MissingInputShape = new(
        "GC0004",
        "Forward input has no shape",
        "Input '{0}' has no shape: declare its per-sample shape without the batch, for example [Shape(1, 28, 28)] Tensor {0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnusedLayer = new(
        "GC0005",
        "Layer is never used",
        "Layer '{0}' is declared but never called in the forward method: call it or remove it (its parameters would be allocated and never trained)",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ForwardMethodCount = new(
        "GC0006",
        "A model needs exactly one [Forward] method",
        "Model '{0}' {1}: mark exactly one method with [Forward]",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NotPartial = new(
        "GC0007",
        "Model class must be a top-level partial class",
        "Model '{0}' {1}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidHyperparameter = new(
        "GC0008",
        "Invalid layer hyperparameter",
        "{0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnknownVariable = new(
        "GC0009",
        "Unknown tensor variable",
        "'{0}' is not a tensor of this forward method: only its inputs and the locals it assigns can be used",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedShape = new(
        "GC0010",
        "Operation not supported on this shape",
        "{0}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsafeRequired = new(
        "GC0011",
        "Generated kernels need unsafe code",
        "Model '{0}' compiles to pointer-based kernels: set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project file",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InternalError = new(
        "GC9999",
        "Internal generator error",
        "GraphCompiler could not compile '{0}' because of an internal error ({1}); please report it with the model declaration",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    private static readonly ImmutableDictionary<string, DiagnosticDescriptor> ById = new[]
    {
        ShapeMismatch, NotConstant, UnsupportedConstruct, MissingInputShape, UnusedLayer, ForwardMethodCount,
        NotPartial, InvalidHyperparameter, UnknownVariable, UnsupportedShape, UnsafeRequired, InternalError,
    }.ToImmutableDictionary(d => d.Id);

    public static DiagnosticDescriptor Get(string id) => ById[id];

    public static IEnumerable<DiagnosticDescriptor> All => ById.Values;
}
