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
        ["Relu"] = 1, ["Tanh"] = 1, ["Sigmoid"] = 1, ["Softmax"] = 1, ["LogSoftmax"] = 1, ["Flatten"] = 1, ["Reshape"] = 1,
    }.ToImmutableDictionary();

    private readonly SemanticModel _semantic;
    private readonly HashSet<string> _layers;
    private readonly DiagnosticBag _diagnostics;
    private readonly CancellationToken _cancellation;

    public ForwardBodyReader(SemanticModel semantic, ImmutableArray<LayerSpec> layers, DiagnosticBag diagnostics, CancellationToken cancellation)
    {
        _semantic = semantic;
        _layers = new HashSet<string>(layers.Select(l => l.Name));
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
                    when assignment.IsKind(SyntaxKind.SimpleAssignmentExpression) && assignment.Left is IdentifierNameSyntax target:
                    Add(statements, target.Identifier.Text, assignment.Right, statement);
                    break;
                case ReturnStatementSyntax { Expression: { } value }:
                    Add(statements, null, value, statement);
                    break;
                default:
                    Unsupported(statement.GetLocation(),
                        $"'{Abbreviate(statement)}' is not supported in a forward method: use tensor locals, assignments, layer calls, the ops of GraphCompiler.Ops, + and *, and return");
                    break;
            }
        }

        return statements.ToImmutable();
    }

    /// <summary>A declared type that is GraphCompiler's Tensor, or var whose value is one.</summary>
    private bool IsTensor(TypeSyntax type)
    {
        ITypeSymbol? t = _semantic.GetTypeInfo(type, _cancellation).Type;
        return t is null || t.TypeKind == TypeKind.Error || (t.Name == "Tensor" && t.ContainingNamespace?.ToDisplayString() == "GraphCompiler");
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

                return new VariableExpr(identifier.Identifier.Text, location);
            case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.AddExpression) || binary.IsKind(SyntaxKind.MultiplyExpression):
                ExprSpec? left = ReadExpression(binary.Left);
                ExprSpec? right = ReadExpression(binary.Right);
                return left is null || right is null
                    ? null
                    : new BinaryExpr(binary.IsKind(SyntaxKind.AddExpression) ? '+' : '*', left, right, location);
            case InvocationExpressionSyntax invocation:
                return ReadInvocation(invocation, location);
            default:
                Unsupported(syntax.GetLocation(),
                    $"'{Abbreviate(syntax)}' is not supported in a forward method: use layer calls, the ops of GraphCompiler.Ops, + and *");
                return null;
        }
    }

    private ExprSpec? ReadInvocation(InvocationExpressionSyntax invocation, LocationInfo? location)
    {
        ISymbol? symbol = _semantic.GetSymbolInfo(invocation.Expression, _cancellation).Symbol;
        string? calleeName = invocation.Expression switch
        {
            IdentifierNameSyntax id => id.Identifier.Text,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax } member => member.Name.Identifier.Text,
            MemberAccessExpressionSyntax member => member.Name.Identifier.Text,
            _ => null,
        };

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

                Optional<object?> constant = _semantic.GetConstantValue(argument, _cancellation);
                if (!constant.HasValue || constant.Value is not int value)
                {
                    _diagnostics.Add(DiagnosticDescriptors.NotConstant, LocationInfo.From(argument.GetLocation()), argument.ToString());
                    return null;
                }

                constants.Add(value);
            }

            return new FunctionExpr(method.Name, tensors.ToEquatableArray(), constants.ToEquatableArray(), location);
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

    private void Unsupported(Location location, string message) =>
        _diagnostics.Add(DiagnosticDescriptors.UnsupportedConstruct, LocationInfo.From(location), message);

    private static string Abbreviate(SyntaxNode node)
    {
        string text = node.ToString().Replace("\r", " ").Replace("\n", " ");
        return text.Length <= 60 ? text : text.Substring(0, 57) + "...";
    }
}
