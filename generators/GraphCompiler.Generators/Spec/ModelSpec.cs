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

/// <summary>
/// A diagnostic found while parsing, reported with the rest after the spec is built; one the compiler already reports
/// at the same place (<see cref="CoveredByCompiler"/>) still stops generation but is not reported.
/// </summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments, bool CoveredByCompiler = false);

internal enum LayerKind
{
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    Linear,
    Lstm,
    Gru,
    Embedding,
    LayerNorm,
    MultiheadAttention,
    PositionalEmbedding,
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
    int NumLayers = 1,
    int Heads = 0,
    double Real = 0)
{
    /// <summary>LayerNorm's eps; MultiheadAttention's dropout.</summary>
    public double Eps => Real;

    /// <summary>The same layer under a module path: <c>encoder.layers.0.</c> + <c>self_attn</c>.</summary>
    public LayerSpec WithPrefix(string prefix) => this with { Name = prefix + Name };

    public bool IsRecurrent => Kind is LayerKind.Lstm or LayerKind.Gru;
}

/// <summary>A forward input: its name and its per-sample shape.</summary>
internal sealed record InputSpec(string Name, EquatableArray<int> Shape, LocationInfo? Location, InputKind Kind = InputKind.Tensor);

/// <summary>What a forward parameter holds: floats, integer tokens, or (in a module) a padding mask.</summary>
internal enum InputKind
{
    Tensor,
    Tokens,
    Mask,
}

/// <summary>
/// A member holding a <c>[Module]</c> class: <c>readonly Encoder encoder;</c> (Count 0) or
/// <c>[Repeat(2)] readonly EncoderLayer[] layers;</c> (Count 2). TypeName is the module's full metadata name.
/// </summary>
internal sealed record ModuleMemberSpec(string Name, string TypeName, int Count, LocationInfo? Location);

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

/// <summary>
/// <c>Relu(x)</c>, <c>Reshape(x, -1, 10)</c>, <c>Dropout(x, 0.1)</c>: a functional op with tensor, integer and real
/// constant arguments (<c>x * 8.0</c> is <c>Scale</c> with one real).
/// </summary>
internal sealed record FunctionExpr(string Function, EquatableArray<ExprSpec> Tensors, EquatableArray<int> Constants, LocationInfo? Location,
    EquatableArray<double> Reals = default)
    : ExprSpec(Location);

/// <summary><c>encoder.Forward(x, mask)</c> or <c>layers[1].Forward(x)</c> (Index -1 for a single member): a module call.</summary>
internal sealed record ModuleCallExpr(string Member, int Index, EquatableArray<ExprSpec> Arguments, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>src_embed(src)</c>: an embedding lookup of a token input.</summary>
internal sealed record EmbeddingCallExpr(string Layer, ExprSpec Tokens, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>src == Pad</c>: the key padding mask of a token input (true where the token is <c>Pad</c>).</summary>
internal sealed record MaskExpr(ExprSpec Tokens, int Pad, LocationInfo? Location) : ExprSpec(Location);

/// <summary><c>self_attn(q, k, v, keyPaddingMask: m, isCausal: true)</c>.</summary>
internal sealed record AttentionCallExpr(string Layer, ExprSpec Query, ExprSpec Key, ExprSpec Value, ExprSpec? Mask, bool Causal, LocationInfo? Location)
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
    LocationInfo? Location,
    EquatableArray<ModuleMemberSpec> Modules = default,
    bool IsModule = false,
    string FullName = "");
