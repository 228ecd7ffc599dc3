using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using GraphCompiler.Generators.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace GraphCompiler.Generators.Diagnostics;

/// <summary>
/// Where the compiler itself reports an error in the body of a forward method (an argument of the wrong type, an
/// unknown name, a layer called with two tensors), the generator's error at the same place would say the same thing a
/// second time. Such an error is kept, so that nothing is generated from the broken method, but marked
/// <see cref="DiagnosticInfo.CoveredByCompiler"/> and not reported. Only errors by nature count (not warnings made
/// errors: a suppressor may silence those in the real build), and only inside forward bodies (elsewhere, as in an
/// attribute, the generator's view may lack members that generated code adds).
/// </summary>
internal static class CompilerErrors
{
    public static ModelSpec MarkCovered(ModelSpec spec, SemanticModel model, CancellationToken cancellation)
    {
        SyntaxTree tree = model.SyntaxTree;
        if (!spec.Diagnostics.Any(d => InTree(d, tree)))
        {
            return spec;
        }

        SyntaxNode root = tree.GetRoot(cancellation);
        var errorsByMember = new Dictionary<TextSpan, ImmutableArray<Diagnostic>>();
        var marked = new List<DiagnosticInfo>();
        bool changed = false;
        foreach (DiagnosticInfo info in spec.Diagnostics)
        {
            if (InTree(info, tree) && root.FullSpan.Contains(info.Location!.Span) && ForwardBody(root.FindNode(info.Location.Span)) is { } body)
            {
                TextSpan span = info.Location.Span;
                if (!errorsByMember.TryGetValue(body.Span, out ImmutableArray<Diagnostic> errors))
                {
                    errors = model.GetDiagnostics(body.Span, cancellation)
                        .Where(e => e.Severity == DiagnosticSeverity.Error && !e.IsWarningAsError)
                        .ToImmutableArray();
                    errorsByMember[body.Span] = errors;
                }

                if (errors.Any(e => e.Location.SourceSpan.OverlapsWith(span) || e.Location.SourceSpan.Contains(span) || span.Contains(e.Location.SourceSpan)))
                {
                    marked.Add(info with { CoveredByCompiler = true });
                    changed = true;
                    continue;
                }
            }

            marked.Add(info);
        }

        return changed ? spec with { Diagnostics = marked.ToEquatableArray() } : spec;
    }

    /// <summary>The body (block or expression) of the [Forward] method that contains <paramref name="node"/>, if any.</summary>
    private static SyntaxNode? ForwardBody(SyntaxNode node)
    {
        MethodDeclarationSyntax? method = node.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
        bool isForward = method is not null && method.AttributeLists
            .SelectMany(l => l.Attributes)
            .Any(a => a.Name.ToString() is "Forward" or "ForwardAttribute" or "GraphCompiler.Forward" or "GraphCompiler.ForwardAttribute");
        SyntaxNode? body = isForward ? (SyntaxNode?)method!.Body ?? method!.ExpressionBody : null;
        return body is not null && body.Span.Contains(node.Span) ? body : null;
    }

    /// <summary>An error of the generator located in this tree.</summary>
    private static bool InTree(DiagnosticInfo info, SyntaxTree tree) =>
        info.Location is not null && info.Location.FilePath == tree.FilePath
        && DiagnosticDescriptors.Get(info.Id).DefaultSeverity == DiagnosticSeverity.Error;
}
