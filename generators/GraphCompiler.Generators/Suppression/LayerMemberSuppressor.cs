using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace GraphCompiler.Generators.Suppression;

/// <summary>
/// Layer members (<c>[Conv2d(...)] readonly Layer conv1;</c>) are declarations read by the generator, never
/// assigned or invoked at run time, so the compiler's "never assigned" / "non-nullable" warnings on them
/// are noise. Suppressing them keeps a user's build with warnings as errors green.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class LayerMemberSuppressor : DiagnosticSuppressor
{
    private const string Justification = "Layer members are declarations that the GraphCompiler generator reads at compile time; they are never assigned or called at run time";

    private static readonly ImmutableArray<SuppressionDescriptor> Descriptors = ImmutableArray.Create(
        new SuppressionDescriptor("GCS0649", "CS0649", Justification),   // field is never assigned
        new SuppressionDescriptor("GCS0169", "CS0169", Justification),   // field is never used
        new SuppressionDescriptor("GCS0414", "CS0414", Justification),   // field is assigned but never used
        new SuppressionDescriptor("GCS8618", "CS8618", Justification));  // non-nullable member is not initialized

    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions => Descriptors;

    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (Diagnostic diagnostic in context.ReportedDiagnostics)
        {
            SyntaxTree? tree = diagnostic.Location.SourceTree;
            if (tree is null)
            {
                continue;
            }

            SyntaxNode node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
            SemanticModel model = context.GetSemanticModel(tree);
            ISymbol? member = node.FirstAncestorOrSelf<VariableDeclaratorSyntax>() is { } variable
                ? model.GetDeclaredSymbol(variable, context.CancellationToken)
                : node.FirstAncestorOrSelf<PropertyDeclarationSyntax>() is { } property
                    ? model.GetDeclaredSymbol(property, context.CancellationToken)
                    : null;
            // A model's own constructor is already an error (GC0007); its "member not initialized" warnings
            // about layer members and generated fields would only hide it.
            bool modelConstructor = diagnostic.Id == "CS8618"
                && node.FirstAncestorOrSelf<ConstructorDeclarationSyntax>() is { } constructor
                && model.GetDeclaredSymbol(constructor, context.CancellationToken)?.ContainingType is { } owner
                && owner.GetAttributes().Any(a => a.AttributeClass is { Name: "ModelAttribute", ContainingNamespace.Name: "GraphCompiler" });
            if (modelConstructor || (member is not null && IsLayerMember(member)))
            {
                SuppressionDescriptor descriptor = Descriptors.First(d => d.SuppressedDiagnosticId == diagnostic.Id);
                context.ReportSuppression(Microsoft.CodeAnalysis.Diagnostics.Suppression.Create(descriptor, diagnostic));
            }
        }
    }

    private static bool IsLayerMember(ISymbol member)
    {
        ITypeSymbol? type = member switch
        {
            IFieldSymbol f => f.Type,
            IPropertySymbol p => p.Type,
            _ => null,
        };
        bool layer = type is { Name: "Layer" or "LstmLayer" or "GruLayer" or "EmbeddingLayer" or "AttentionLayer", ContainingNamespace: { Name: "GraphCompiler", ContainingNamespace.IsGlobalNamespace: true } }
            && member.GetAttributes().Any(a => a.AttributeClass?.ContainingNamespace?.ToDisplayString() == "GraphCompiler");
        // readonly Encoder encoder; [Repeat(2)] readonly EncoderLayer[] layers; in a model or a module: read by the generator only.
        bool module = Parse.ModelParser.ModuleType(type, out _) is not null
            && member.ContainingType.GetAttributes().Any(a => a.AttributeClass is { Name: "ModelAttribute" or "ModuleAttribute", ContainingNamespace.Name: "GraphCompiler" });
        return layer || module;
    }
}
