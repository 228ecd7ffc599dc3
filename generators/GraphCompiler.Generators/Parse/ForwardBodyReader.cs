using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GraphCompiler.Generators.Parse;

/// <summary>
/// Reads the body of a forward method as a list of tensor statements. It never executes anything: it
/// recognizes layer calls, the functional ops of <c>GraphCompiler.Ops</c>, <c>+</c>, <c>*</c>, locals and
/// returns, and reports everything else at its location.
/// </summary>
internal sealed class ForwardBodyReader
{
    /// <summary>Functional ops and how many tensor arguments each takes (the rest are constants).</summary>
    private static readonly ImmutableDictionary<string, int> Functions = new Dictionary<string, int>
    {
        ["Relu"] = 1, ["Tanh"] = 1, ["Sigmoid"] = 1, ["Softmax"] = 1, ["LogSoftmax"] = 1, ["Flatten"] = 1, ["Reshape"] = 1, ["Select"] = 1,
        ["Gelu"] = 1, ["Dropout"] = 1, ["PositionalEncoding"] = 1,
    }.ToImmutableDictionary();

    /// <summary>Functional ops whose constant arguments are real numbers.</summary>
    private static readonly ImmutableHashSet<string> RealFunctions = ImmutableHashSet.Create("Dropout");

    /// <summary>The most iterations of one unrolled for loop (each iteration is inlined code).</summary>
    private const int MaxIterations = 1 << 12;

    private readonly SemanticModel _semantic;
    private readonly HashSet<string> _layers;
    private readonly Dictionary<string, LayerSpec> _recurrent;
    private readonly Dictionary<string, LayerSpec> _byName;
    private readonly Dictionary<string, ModuleMemberSpec> _modules;
    /// <summary>The loop variables of the enclosing unrolled for loops and their value in this iteration.</summary>
    private readonly Dictionary<string, int> _loopValues = new();
    private int _temporaries;
    private readonly DiagnosticBag _diagnostics;
    private readonly CancellationToken _cancellation;

    public ForwardBodyReader(SemanticModel semantic, ImmutableArray<LayerSpec> layers, ImmutableArray<ModuleMemberSpec> modules, DiagnosticBag diagnostics, CancellationToken cancellation)
    {
        _semantic = semantic;
        _byName = layers.GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.First());
        _modules = modules.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First());
        _layers = new HashSet<string>(layers.Select(l => l.Name));
        _recurrent = layers.Where(l => l.IsRecurrent).GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.First());
        _diagnostics = diagnostics;
        _cancellation = cancellation;
    }

    public ImmutableArray<StatementSpec> Read(MethodDeclarationSyntax method)
    {
        var statements = ImmutableArray.CreateBuilder<StatementSpec>();
        if (method.ExpressionBody is { } arrow)
        {
            Add(statements, null, arrow.Expression, arrow);
            return statements.ToImmutable();
        }

        if (method.Body is null)
        {
            Unsupported(method.Identifier.GetLocation(), "A forward method needs a body");
            return statements.ToImmutable();
        }

        foreach (StatementSyntax statement in method.Body.Statements)
        {
            ReadStatement(statements, statement);
        }

        return statements.ToImmutable();
    }

    private void ReadStatement(ImmutableArray<StatementSpec>.Builder statements, StatementSyntax statement)
    {
        _cancellation.ThrowIfCancellationRequested();
        switch (statement)
        {
            case LocalDeclarationStatementSyntax local when local.IsConst || !IsTensor(local.Declaration.Type):
                // Constants (and other non-tensor locals) are read where they are used, as constant values.
                break;
            case LocalDeclarationStatementSyntax local:
                foreach (VariableDeclaratorSyntax variable in local.Declaration.Variables)
                {
                    if (variable.Initializer is null)
                    {
                        Unsupported(variable.GetLocation(), $"Local '{variable.Identifier.Text}' needs a value: write 'var {variable.Identifier.Text} = ...;'");
                        continue;
                    }

                    Add(statements, variable.Identifier.Text, variable.Initializer.Value, statement);
                }

                break;
            case ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax assignment }
                when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) && assignment.Left is DeclarationExpressionSyntax or TupleExpressionSyntax:
                Deconstruct(statements, assignment, statement);
                break;
            case ExpressionStatementSyntax { Expression: AssignmentExpressionSyntax assignment }
                when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) && assignment.Left is IdentifierNameSyntax target:
                Add(statements, target.Identifier.Text, assignment.Right, statement);
                break;
            case ReturnStatementSyntax { Expression: { } value }:
                Add(statements, null, value, statement);
                break;
            case ForStatementSyntax loop:
                ReadFor(statements, loop);
                break;
            case BlockSyntax block:
                foreach (StatementSyntax inner in block.Statements)
                {
                    ReadStatement(statements, inner);
                }

                break;
            default:
                Unsupported(statement.GetLocation(),
                    $"'{Abbreviate(statement)}' is not supported in a forward method: use tensor locals, assignments, layer and module calls, the ops of GraphCompiler.Ops, + and *, constant-bound for loops, and return");
                break;
        }
    }

    /// <summary>
    /// <c>for (int i = 0; i &lt; 2; i++) x = layers[i].Forward(x);</c>: a loop with constant bounds, unrolled here,
    /// the loop variable being a constant in each copy of the body.
    /// </summary>
    private void ReadFor(ImmutableArray<StatementSpec>.Builder statements, ForStatementSyntax loop)
    {
        string usage = "A for loop in a forward method counts a local from a constant up to a constant: for (int i = 0; i < 2; i++)";
        if (loop.Declaration is not { Variables.Count: 1 } declaration || declaration.Variables[0].Initializer is null
            || loop.Condition is not BinaryExpressionSyntax condition
            || !(condition.IsKind(SyntaxKind.LessThanExpression) || condition.IsKind(SyntaxKind.LessThanOrEqualExpression))
            || condition.Left is not IdentifierNameSyntax bound
            || loop.Incrementors.Count != 1
            || loop.Incrementors[0] is not (PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PostIncrementExpression } or PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PreIncrementExpression }))
        {
            Unsupported(loop.ForKeyword.GetLocation(), usage);
            return;
        }

        string name = declaration.Variables[0].Identifier.Text;
        if (bound.Identifier.Text != name)
        {
            Unsupported(condition.GetLocation(), usage);
            return;
        }

        int? first = ConstantInt(declaration.Variables[0].Initializer!.Value);
        int? last = ConstantInt(condition.Right);
        if (first is null || last is null)
        {
            _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From((first is null ? declaration.Variables[0].Initializer!.Value : condition.Right).GetLocation()),
                (first is null ? declaration.Variables[0].Initializer!.Value : condition.Right).ToString());
            return;
        }

        int end = condition.IsKind(SyntaxKind.LessThanOrEqualExpression) ? last.Value + 1 : last.Value;
        if (end - first.Value > MaxIterations)
        {
            Unsupported(loop.ForKeyword.GetLocation(), $"A for loop in a forward method is unrolled: at most {MaxIterations} iterations");
            return;
        }

        for (int i = first.Value; i < end; i++)
        {
            _loopValues[name] = i;
            ReadStatement(statements, loop.Statement);
        }

        _loopValues.Remove(name);
    }

    /// <summary>An integer constant: a literal, a const, or the variable of an enclosing unrolled loop.</summary>
    private int? ConstantInt(ExpressionSyntax expression)
    {
        if (expression is IdentifierNameSyntax id && _loopValues.TryGetValue(id.Identifier.Text, out int value))
        {
            return value;
        }

        Optional<object?> constant = _semantic.GetConstantValue(expression, _cancellation);
        return constant.HasValue && constant.Value is int v ? v : null;
    }

    /// <summary>A real constant (<c>0.1</c>, <c>0.1f</c>, <c>8</c>, a const).</summary>
    private double? ConstantReal(ExpressionSyntax expression)
    {
        Optional<object?> constant = _semantic.GetConstantValue(expression, _cancellation);
        return constant.HasValue ? constant.Value switch
        {
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            _ => null,
        } : null;
    }

    /// <summary>
    /// <c>var (output, (hn, cn)) = lstm(x);</c>, <c>(var output, var hn) = gru(x);</c>: the call is bound once to a
    /// temporary, and each named element to its part (discards <c>_</c> bind nothing).
    /// </summary>
    private void Deconstruct(ImmutableArray<StatementSpec>.Builder statements, AssignmentExpressionSyntax assignment, SyntaxNode statement)
    {
        if (assignment.Right is not InvocationExpressionSyntax invocation || RecurrentLayer(invocation) is not { } layer)
        {
            Unsupported(assignment.GetLocation(),
                "Deconstruction reads the result of a recurrent layer: var (output, (hn, cn)) = lstm(x); or var (output, hn) = gru(x);");
            return;
        }

        ExprSpec? call = ReadRecurrentCall(invocation, layer);
        if (call is null)
        {
            return;
        }

        LocationInfo? location = LocationInfo.From(statement.GetLocation());
        string temporary = "$" + layer.Name + "_" + (++_temporaries).ToString(System.Globalization.CultureInfo.InvariantCulture);
        statements.Add(new StatementSpec(temporary, call, location));
        var names = new List<(string Name, int Part, Location Where)>();
        bool shaped = layer.Kind == LayerKind.Lstm
            ? ReadPattern(assignment.Left, names, 0, new[] { 0, -1 }, new[] { 1, 2 })
            : ReadPattern(assignment.Left, names, 0, new[] { 0, 1 }, null);
        if (!shaped)
        {
            Unsupported(assignment.Left.GetLocation(), layer.Kind == LayerKind.Lstm
                ? $"{layer.Name} returns (output, (h_n, c_n)): write var (output, (hn, cn)) = {layer.Name}(x); (use _ for the parts you do not need)"
                : $"{layer.Name} returns (output, h_n): write var (output, hn) = {layer.Name}(x); (use _ for a part you do not need)");
            return;
        }

        foreach ((string name, int part, Location where) in names)
        {
            statements.Add(new StatementSpec(name, new RecurrentPartExpr(new VariableExpr(temporary, location), part, LocationInfo.From(where)), location));
        }
    }

    /// <summary>
    /// Matches a deconstruction pattern against the parts of a recurrent result: <paramref name="parts"/> gives,
    /// for each element, its part number, or -1 for a nested pair whose parts are <paramref name="nested"/>.
    /// </summary>
    private static bool ReadPattern(SyntaxNode pattern, List<(string, int, Location)> names, int depth, int[] parts, int[]? nested)
    {
        List<SyntaxNode>? elements = pattern switch
        {
            DeclarationExpressionSyntax { Designation: ParenthesizedVariableDesignationSyntax p } => p.Variables.Cast<SyntaxNode>().ToList(),
            ParenthesizedVariableDesignationSyntax p => p.Variables.Cast<SyntaxNode>().ToList(),
            TupleExpressionSyntax t => t.Arguments.Select(a => (SyntaxNode)a.Expression).ToList(),
            _ => null,
        };
        if (elements is null || elements.Count != parts.Length)
        {
            return false;
        }

        for (int i = 0; i < elements.Count; i++)
        {
            SyntaxNode element = elements[i];
            if (parts[i] == -1)
            {
                if (element is DiscardDesignationSyntax or IdentifierNameSyntax { Identifier.Text: "_" } or DeclarationExpressionSyntax { Designation: DiscardDesignationSyntax })
                {
                    continue;
                }

                if (nested is null || !ReadPattern(element, names, depth + 1, nested, null))
                {
                    return false;
                }

                continue;
            }

            switch (element)
            {
                case DiscardDesignationSyntax:
                case IdentifierNameSyntax { Identifier.Text: "_" }:
                case DeclarationExpressionSyntax { Designation: DiscardDesignationSyntax }:
                    break;
                case SingleVariableDesignationSyntax single:
                    names.Add((single.Identifier.Text, parts[i], single.GetLocation()));
                    break;
                case DeclarationExpressionSyntax { Designation: SingleVariableDesignationSyntax single }:
                    names.Add((single.Identifier.Text, parts[i], single.GetLocation()));
                    break;
                case IdentifierNameSyntax identifier:
                    names.Add((identifier.Identifier.Text, parts[i], identifier.GetLocation()));
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>The recurrent layer an invocation calls, if it calls one.</summary>
    private LayerSpec? RecurrentLayer(InvocationExpressionSyntax invocation)
    {
        string? name = invocation.Expression switch
        {
            IdentifierNameSyntax id => id.Identifier.Text,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } member => member.Name.Identifier.Text,
            _ => null,
        };
        return name is not null && _recurrent.TryGetValue(name, out LayerSpec? layer)
            && _semantic.GetSymbolInfo(invocation.Expression, _cancellation).Symbol is IFieldSymbol or IPropertySymbol
            ? layer
            : null;
    }

    /// <summary><c>lstm(x)</c>, <c>lstm(x, (h0, c0))</c>, <c>gru(x)</c>, <c>gru(x, h0)</c>; a <c>null</c> state means zeros.</summary>
    private ExprSpec? ReadRecurrentCall(InvocationExpressionSyntax invocation, LayerSpec layer)
    {
        SeparatedSyntaxList<ArgumentSyntax> arguments = invocation.ArgumentList.Arguments;
        string usage = layer.Kind == LayerKind.Lstm ? $"{layer.Name}(x) or {layer.Name}(x, (h0, c0))" : $"{layer.Name}(x) or {layer.Name}(x, h0)";
        if (arguments.Count is < 1 or > 2)
        {
            Unsupported(invocation.GetLocation(), $"{layer.Kind} '{layer.Name}' takes a sequence and optionally its initial state: {usage}");
            return null;
        }

        ExprSpec? input = ReadExpression(arguments[0].Expression);
        if (input is null)
        {
            return null;
        }

        var state = new List<ExprSpec>();
        if (arguments.Count == 2 && !arguments[1].Expression.IsKind(SyntaxKind.NullLiteralExpression) && !arguments[1].Expression.IsKind(SyntaxKind.DefaultLiteralExpression))
        {
            ExpressionSyntax given = arguments[1].Expression;
            IEnumerable<ExpressionSyntax> parts = layer.Kind == LayerKind.Lstm
                ? given is TupleExpressionSyntax { Arguments.Count: 2 } pair ? pair.Arguments.Select(a => a.Expression) : Enumerable.Empty<ExpressionSyntax>()
                : new[] { given };
            foreach (ExpressionSyntax part in parts)
            {
                ExprSpec? tensor = ReadExpression(part);
                if (tensor is null)
                {
                    return null;
                }

                state.Add(tensor);
            }

            if (state.Count == 0)
            {
                Unsupported(given.GetLocation(), $"The initial state of LSTM '{layer.Name}' is a pair: {layer.Name}(x, (h0, c0))");
                return null;
            }
        }

        return new RecurrentCallExpr(layer.Name, input, state.ToEquatableArray(), LocationInfo.From(invocation.GetLocation()));
    }

    /// <summary>
    /// <c>x[.., i]</c> and <c>x[.., i, ..]</c> (PyTorch's <c>x[:, i]</c>): a Select on dimension 1. The index is a
    /// constant; <c>^n</c> and negative values count from the end.
    /// </summary>
    private ExprSpec? ReadElementAccess(ElementAccessExpressionSyntax access, LocationInfo? location)
    {
        SeparatedSyntaxList<ArgumentSyntax> arguments = access.ArgumentList.Arguments;
        bool IsFullRange(ExpressionSyntax e) => e is RangeExpressionSyntax { LeftOperand: null, RightOperand: null };
        if (arguments.Count is < 2 or > 3 || !IsFullRange(arguments[0].Expression) || (arguments.Count == 3 && !IsFullRange(arguments[2].Expression)))
        {
            Unsupported(access.GetLocation(), $"'{Abbreviate(access)}': index a tensor as x[.., i] or x[.., i, ..] (PyTorch's x[:, i]), with i a constant; ^1 or -1 is the last");
            return null;
        }

        ExpressionSyntax index = arguments[1].Expression;
        bool fromEnd = false;
        if (index is PrefixUnaryExpressionSyntax hat && hat.IsKind(SyntaxKind.IndexExpression))
        {
            fromEnd = true;
            index = hat.Operand;
        }

        Optional<object?> constant = _semantic.GetConstantValue(index, _cancellation);
        if (!constant.HasValue || constant.Value is not int value || (fromEnd && value < 1))
        {
            _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(arguments[1].Expression.GetLocation()), arguments[1].Expression.ToString());
            return null;
        }

        ExprSpec? tensor = ReadExpression(access.Expression);
        return tensor is null
            ? null
            : new FunctionExpr("Select", new[] { tensor }.ToEquatableArray(), new[] { 1, fromEnd ? -value : value }.ToEquatableArray(), location);
    }

    /// <summary><c>lstm(x).Output</c>, <c>lstm(x).State.H</c>, <c>gru(x).H</c>: one part of a recurrent call.</summary>
    private ExprSpec? ReadRecurrentMember(MemberAccessExpressionSyntax member, LocationInfo? location)
    {
        string path = member.Name.Identifier.Text;
        ExpressionSyntax target = member.Expression;
        if (target is MemberAccessExpressionSyntax { Name.Identifier.Text: "State" } state)
        {
            path = "State." + path;
            target = state.Expression;
        }

        if (target is not InvocationExpressionSyntax invocation || RecurrentLayer(invocation) is not { } layer)
        {
            Unsupported(member.GetLocation(),
                $"'{Abbreviate(member)}' is not supported in a forward method: use layer calls, the ops of GraphCompiler.Ops, + and *");
            return null;
        }

        int part = (layer.Kind, path) switch
        {
            (_, "Output") => 0,
            (LayerKind.Lstm, "State.H") => 1,
            (LayerKind.Lstm, "State.C") => 2,
            (LayerKind.Gru, "H") => 1,
            _ => -1,
        };
        if (part < 0)
        {
            Unsupported(member.GetLocation(), $"'{Abbreviate(member)}': a {layer.Kind} result has {(layer.Kind == LayerKind.Lstm ? "Output, State.H and State.C" : "Output and H")}");
            return null;
        }

        ExprSpec? call = ReadRecurrentCall(invocation, layer);
        return call is null ? null : new RecurrentPartExpr(call, part, location);
    }

    /// <summary>A declared type that is GraphCompiler's Tensor, or var whose value is one.</summary>
    private bool IsTensor(TypeSyntax type)
    {
        ITypeSymbol? t = _semantic.GetTypeInfo(type, _cancellation).Type;
        return t is null || t.TypeKind == TypeKind.Error || (t.Name is "Tensor" or "Tokens" or "Mask" && t.ContainingNamespace?.ToDisplayString() == "GraphCompiler");
    }

    private void Add(ImmutableArray<StatementSpec>.Builder statements, string? target, ExpressionSyntax value, SyntaxNode statement)
    {
        ExprSpec? expr = ReadExpression(value);
        if (expr is not null)
        {
            statements.Add(new StatementSpec(target, expr, LocationInfo.From(statement.GetLocation())));
        }
    }

    private ExprSpec? ReadExpression(ExpressionSyntax syntax)
    {
        LocationInfo? location = LocationInfo.From(syntax.GetLocation());
        switch (syntax)
        {
            case ParenthesizedExpressionSyntax parenthesized:
                return ReadExpression(parenthesized.Expression);
            case IdentifierNameSyntax identifier:
                if (_layers.Contains(identifier.Identifier.Text) && _semantic.GetSymbolInfo(identifier, _cancellation).Symbol is IFieldSymbol or IPropertySymbol)
                {
                    Unsupported(identifier.GetLocation(), $"Layer '{identifier.Identifier.Text}' is used as a value: call it, e.g. {identifier.Identifier.Text}(x)");
                    return null;
                }

                if (_semantic.GetSymbolInfo(identifier, _cancellation) is { Symbol: null, CandidateSymbols.IsEmpty: true })
                {
                    // a name that binds to nothing: the compiler reports it (CS0103), so this one is not shown
                    _diagnostics.Add(DiagnosticDescriptors.UnknownVariable, location, identifier.Identifier.Text);
                    return null;
                }

                return new VariableExpr(identifier.Identifier.Text, location);
            case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.EqualsExpression):
                {
                    int? pad = ConstantInt(binary.Right);
                    if (pad is null)
                    {
                        _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(binary.Right.GetLocation()), binary.Right.ToString());
                        return null;
                    }

                    ExprSpec? tokens = ReadExpression(binary.Left);
                    return tokens is null ? null : new MaskExpr(tokens, pad.Value, location);
                }

            case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.MultiplyExpression) && (ConstantReal(binary.Right) is not null || ConstantReal(binary.Left) is not null):
                {
                    bool rightConstant = ConstantReal(binary.Right) is not null;
                    double scale = (rightConstant ? ConstantReal(binary.Right) : ConstantReal(binary.Left))!.Value;
                    ExprSpec? scaled = ReadExpression(rightConstant ? binary.Left : binary.Right);
                    return scaled is null
                        ? null
                        : new FunctionExpr("Scale", new[] { scaled }.ToEquatableArray(), EquatableArray<int>.Empty, location, new[] { scale }.ToEquatableArray());
                }

            case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.AddExpression) || binary.IsKind(SyntaxKind.MultiplyExpression):
                ExprSpec? left = ReadExpression(binary.Left);
                ExprSpec? right = ReadExpression(binary.Right);
                return left is null || right is null
                    ? null
                    : new BinaryExpr(binary.IsKind(SyntaxKind.AddExpression) ? '+' : '*', left, right, location);
            case InvocationExpressionSyntax invocation:
                return ReadInvocation(invocation, location);
            case ElementAccessExpressionSyntax access:
                return ReadElementAccess(access, location);
            case MemberAccessExpressionSyntax member:
                return ReadRecurrentMember(member, location);
            default:
                Unsupported(syntax.GetLocation(),
                    $"'{Abbreviate(syntax)}' is not supported in a forward method: use layer calls, the ops of GraphCompiler.Ops, + and *");
                return null;
        }
    }

    private ExprSpec? ReadInvocation(InvocationExpressionSyntax invocation, LocationInfo? location)
    {
        // A call the compiler cannot bind (Relu(tokens): no overload takes Tokens) still names its op by its one
        // candidate: the compiler reports the argument's type, the generator what the op needs instead.
        SymbolInfo symbolInfo = _semantic.GetSymbolInfo(invocation.Expression, _cancellation);
        ISymbol? symbol = symbolInfo.Symbol ?? (symbolInfo.CandidateSymbols.Length == 1 ? symbolInfo.CandidateSymbols[0] : null);
        string? calleeName = invocation.Expression switch
        {
            IdentifierNameSyntax id => id.Identifier.Text,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } member => member.Name.Identifier.Text,
            MemberAccessExpressionSyntax member => member.Name.Identifier.Text,
            _ => null,
        };

        // encoder.Forward(x, mask), layers[i].Forward(x): a module call, inlined by the graph builder.
        if (invocation.Expression is MemberAccessExpressionSyntax { Name.Identifier.Text: "Forward" } moduleAccess
            && ModuleTarget(moduleAccess.Expression, out ModuleMemberSpec? module, out int index))
        {
            if (module is null)
            {
                return null;
            }

            var moduleArguments = new List<ExprSpec>();
            foreach (ArgumentSyntax argument in invocation.ArgumentList.Arguments)
            {
                ExprSpec? value = ReadExpression(argument.Expression);
                if (value is null)
                {
                    return null;
                }

                moduleArguments.Add(value);
            }

            return new ModuleCallExpr(module.Name, index, moduleArguments.ToEquatableArray(), location);
        }

        if (calleeName is not null && _byName.TryGetValue(calleeName, out LayerSpec? special) && symbol is IFieldSymbol or IPropertySymbol
            && special.Kind is LayerKind.Embedding or LayerKind.MultiheadAttention)
        {
            return special.Kind == LayerKind.Embedding ? ReadEmbeddingCall(invocation, special, location) : ReadAttentionCall(invocation, special, location);
        }

        if (RecurrentLayer(invocation) is { } recurrent)
        {
            Unsupported(invocation.GetLocation(), recurrent.Kind == LayerKind.Lstm
                ? $"LSTM '{recurrent.Name}' returns (output, (h_n, c_n)): write var (output, (hn, cn)) = {Abbreviate(invocation)}; or {Abbreviate(invocation)}.Output"
                : $"GRU '{recurrent.Name}' returns (output, h_n): write var (output, hn) = {Abbreviate(invocation)}; or {Abbreviate(invocation)}.Output");
            return null;
        }

        // conv1(x): a field or property of delegate type Layer, read through Invoke.
        if (calleeName is not null && _layers.Contains(calleeName) && symbol is IFieldSymbol or IPropertySymbol)
        {
            if (invocation.ArgumentList.Arguments.Count != 1)
            {
                Unsupported(invocation.GetLocation(), $"Layer '{calleeName}' takes one tensor: {calleeName}(x)");
                return null;
            }

            ExprSpec? argument = ReadExpression(invocation.ArgumentList.Arguments[0].Expression);
            return argument is null ? null : new LayerCallExpr(calleeName, argument, location);
        }

        if (symbol is IMethodSymbol { ContainingType: { Name: "Ops" } ops } method
            && ops.ContainingNamespace?.ToDisplayString() == "GraphCompiler"
            && Functions.TryGetValue(method.Name, out int tensorCount))
        {
            var tensors = new List<ExprSpec>();
            var constants = new List<int>();
            var reals = new List<double>();
            SeparatedSyntaxList<ArgumentSyntax> arguments = invocation.ArgumentList.Arguments;
            for (int i = 0; i < arguments.Count; i++)
            {
                ExpressionSyntax argument = arguments[i].Expression;
                if (i < tensorCount)
                {
                    ExprSpec? tensor = ReadExpression(argument);
                    if (tensor is null)
                    {
                        return null;
                    }

                    tensors.Add(tensor);
                    continue;
                }

                if (RealFunctions.Contains(method.Name))
                {
                    double? real = ConstantReal(argument);
                    if (real is null)
                    {
                        _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(argument.GetLocation()), argument.ToString());
                        return null;
                    }

                    reals.Add(real.Value);
                    continue;
                }

                int? value = ConstantInt(argument);
                if (value is null)
                {
                    _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(argument.GetLocation()), argument.ToString());
                    return null;
                }

                constants.Add(value.Value);
            }

            if (method.Name == "Dropout" && !(reals.Count == 1 && reals[0] >= 0 && reals[0] < 1))
            {
                _diagnostics.Add(DiagnosticDescriptors.InvalidHyperparameter, location, $"Dropout probability must be in [0, 1); got {(reals.Count == 1 ? reals[0] : double.NaN)}");
                return null;
            }

            return new FunctionExpr(method.Name, tensors.ToEquatableArray(), constants.ToEquatableArray(), location, reals.ToEquatableArray());
        }

        string name = calleeName ?? invocation.Expression.ToString();
        if (calleeName is not null && symbol is IFieldSymbol or IPropertySymbol && !_layers.Contains(calleeName))
        {
            Unsupported(invocation.GetLocation(),
                $"'{name}' has no layer attribute: declare it as a layer, e.g. [Linear(128, 10)] readonly Layer {name};");
        }
        else
        {
            Unsupported(invocation.GetLocation(),
                $"The call '{name}' is not supported in a forward method: call layers or the ops of GraphCompiler.Ops ({string.Join(", ", Functions.Keys.OrderBy(k => k, System.StringComparer.Ordinal))})");
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="target"/> names a module member (<c>encoder</c>, <c>layers[i]</c>); <paramref name="module"/>
    /// is null (after a diagnostic) when it does but the index is wrong.
    /// </summary>
    private bool ModuleTarget(ExpressionSyntax target, out ModuleMemberSpec? module, out int index)
    {
        module = null;
        index = -1;
        ExpressionSyntax memberSyntax = target is ElementAccessExpressionSyntax element ? element.Expression : target;
        if (memberSyntax is MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } thisAccess)
        {
            memberSyntax = thisAccess.Name;
        }

        if (memberSyntax is not IdentifierNameSyntax id)
        {
            return false;
        }

        if (!_modules.TryGetValue(id.Identifier.Text, out ModuleMemberSpec? found))
        {
            // An instance member of a module type that is not among the modules was reported at its declaration (an
            // array without [Repeat], [Repeat] on one module): its calls are not reported again.
            ITypeSymbol? memberType = _semantic.GetSymbolInfo(id, _cancellation).Symbol switch
            {
                IFieldSymbol { IsStatic: false } field => field.Type,
                IPropertySymbol { IsStatic: false } property => property.Type,
                _ => null,
            };
            return ModelParser.ModuleType(memberType, out _) is not null;
        }

        if (target is ElementAccessExpressionSyntax access)
        {
            if (found.Count == 0 || access.ArgumentList.Arguments.Count != 1)
            {
                Unsupported(access.GetLocation(), found.Count == 0
                    ? $"'{found.Name}' is one module: call {found.Name}.Forward(...)"
                    : $"'{found.Name}' holds {found.Count} modules: call {found.Name}[i].Forward(...) with i a constant or a loop variable");
                return true;
            }

            int? value = ConstantInt(access.ArgumentList.Arguments[0].Expression);
            if (value is null)
            {
                _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(access.ArgumentList.Arguments[0].GetLocation()), access.ArgumentList.Arguments[0].ToString());
                return true;
            }

            if (value < 0 || value >= found.Count)
            {
                Unsupported(access.ArgumentList.Arguments[0].GetLocation(), $"'{found.Name}' holds {found.Count} modules (indices 0 to {found.Count - 1}); the index is {value}");
                return true;
            }

            index = value.Value;
        }
        else if (found.Count > 0)
        {
            Unsupported(target.GetLocation(), $"'{found.Name}' holds {found.Count} modules: call one of them, {found.Name}[i].Forward(...)");
            return true;
        }

        module = found;
        return true;
    }

    /// <summary><c>src_embed(src)</c>: one token input.</summary>
    private ExprSpec? ReadEmbeddingCall(InvocationExpressionSyntax invocation, LayerSpec layer, LocationInfo? location)
    {
        if (invocation.ArgumentList.Arguments.Count != 1)
        {
            Unsupported(invocation.GetLocation(), $"Embedding '{layer.Name}' takes one token input: {layer.Name}(tokens)");
            return null;
        }

        ExprSpec? tokens = ReadExpression(invocation.ArgumentList.Arguments[0].Expression);
        return tokens is null ? null : new EmbeddingCallExpr(layer.Name, tokens, location);
    }

    /// <summary><c>self_attn(q, k, v, keyPaddingMask: mask, isCausal: true)</c>, named or positional.</summary>
    private ExprSpec? ReadAttentionCall(InvocationExpressionSyntax invocation, LayerSpec layer, LocationInfo? location)
    {
        string usage = $"MultiheadAttention '{layer.Name}' is called as {layer.Name}(query, key, value, keyPaddingMask: src == Pad, isCausal: true) (the last two optional)";
        var positional = new List<ExpressionSyntax>();
        ExpressionSyntax? mask = null, causal = null;
        foreach (ArgumentSyntax argument in invocation.ArgumentList.Arguments)
        {
            string? name = argument.NameColon?.Name.Identifier.Text;
            switch (name)
            {
                case null when positional.Count < 3:
                    positional.Add(argument.Expression);
                    break;
                case null when positional.Count == 3 && mask is null:
                    mask = argument.Expression;
                    break;
                case null when mask is not null && causal is null:
                    causal = argument.Expression;
                    break;
                case "query" or "key" or "value":
                    Unsupported(argument.GetLocation(), usage + "; pass query, key and value by position");
                    return null;
                case "keyPaddingMask":
                    mask = argument.Expression;
                    break;
                case "isCausal":
                    causal = argument.Expression;
                    break;
                default:
                    Unsupported(argument.GetLocation(), usage);
                    return null;
            }
        }

        if (positional.Count != 3)
        {
            Unsupported(invocation.GetLocation(), usage);
            return null;
        }

        bool isCausal = false;
        if (causal is not null)
        {
            Optional<object?> constant = _semantic.GetConstantValue(causal, _cancellation);
            if (!constant.HasValue || constant.Value is not bool b)
            {
                _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(causal.GetLocation()), causal.ToString());
                return null;
            }

            isCausal = b;
        }

        var parts = new ExprSpec[3];
        for (int i = 0; i < 3; i++)
        {
            ExprSpec? part = ReadExpression(positional[i]);
            if (part is null)
            {
                return null;
            }

            parts[i] = part;
        }

        ExprSpec? maskExpr = null;
        if (mask is not null && !mask.IsKind(SyntaxKind.NullLiteralExpression) && !mask.IsKind(SyntaxKind.DefaultLiteralExpression))
        {
            maskExpr = ReadExpression(mask);
            if (maskExpr is null)
            {
                return null;
            }
        }

        return new AttentionCallExpr(layer.Name, parts[0], parts[1], parts[2], maskExpr, isCausal, location);
    }

    private void Unsupported(Location location, string message) =>
        _diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, LocationInfo.From(location), message);

    private static string Abbreviate(SyntaxNode node)
    {
        string text = node.ToString().Replace("\r", " ").Replace("\n", " ");
        return text.Length <= 60 ? text : text.Substring(0, 57) + "...";
    }
}
