using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace GraphCompiler.Generators.Spec;

// The spec is the incremental-cache boundary: everything the later stages need, as plain data with
// value equality. Nothing from the compilation (symbols, syntax, Location) may be stored here.

/// <summary>A source location as plain data.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is null || location.SourceTree is null
            ? null
            : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);
}

/// <summary>A diagnostic found while parsing, reported with the rest after the spec is built.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments);

internal enum LayerKind
{
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    Linear,
    Lstm,
    Gru,
}

/// <summary>
/// One layer member: its kind and hyperparameters, as written in its attribute. For Linear, In/Out are
/// the features; for Conv2d the channels; for Lstm and Gru the input and hidden sizes; pools leave them 0.
/// </summary>
internal sealed record LayerSpec(
    string Name,
    LayerKind Kind,
    int In,
    int Out,
    int Kernel,
    int Stride,
    int Padding,
    int Dilation,
    bool Bias,
    LocationInfo? Location,
    int NumLayers = 1)
{
    public bool IsRecurrent => Kind is LayerKind.Lstm or LayerKind.Gru;
}

/// <summary>A forward input: its name and its per-sample shape.</summary>
internal sealed record InputSpec(string Name, EquatableArray<int> Shape, LocationInfo? Location);

/// <summary>An expression of the forward method over symbolic tensors.</summary>
internal abstract record ExprSpec(LocationInfo? Location);

/// <summary>A local or parameter read.</summary>
internal sealed record VariableExpr(string Name, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>conv1(x)</c>: a call of a layer member.</summary>
internal sealed record LayerCallExpr(string Layer, ExprSpec Argument, LocationInfo? Location) : ExprSpec(Location);

/// <summary>
/// <c>lstm(x)</c>, <c>lstm(x, (h0, c0))</c>, <c>gru(x, h0)</c>: a call of a recurrent layer. Its value is the
/// output sequence; <see cref="RecurrentPartExpr"/> picks the final states.
/// </summary>
internal sealed record RecurrentCallExpr(string Layer, ExprSpec Argument, EquatableArray<ExprSpec> State, LocationInfo? Location)
    : ExprSpec(Location);

/// <summary>Part of a recurrent call's result: 0 the output sequence, 1 h_n, 2 c_n (LSTM).</summary>
internal sealed record RecurrentPartExpr(ExprSpec Call, int Part, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>Relu(x)</c>, <c>Reshape(x, -1, 10)</c>: a functional op with tensor and constant arguments.</summary>
internal sealed record FunctionExpr(string Function, EquatableArray<ExprSpec> Tensors, EquatableArray<int> Constants, LocationInfo? Location)
    : ExprSpec(Location);

/// <summary><c>a + b</c>, <c>a * b</c>.</summary>
internal sealed record BinaryExpr(char Operator, ExprSpec Left, ExprSpec Right, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>x = expr;</c>, <c>var y = expr;</c> (Target set) or <c>return expr;</c> (Target null).</summary>
internal sealed record StatementSpec(string? Target, ExprSpec Value, LocationInfo? Location);

internal sealed record ForwardSpec(
    string MethodName,
    EquatableArray<InputSpec> Inputs,
    EquatableArray<StatementSpec> Statements,
    LocationInfo? Location);

/// <summary>Everything the generator knows of one <c>[Model]</c> class.</summary>
internal sealed record ModelSpec(
    string? Namespace,
    string ClassName,
    EquatableArray<LayerSpec> Layers,
    ForwardSpec? Forward,
    EquatableArray<DiagnosticInfo> Diagnostics,
    LocationInfo? Location);
