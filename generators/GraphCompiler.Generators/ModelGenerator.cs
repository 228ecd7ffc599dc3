using System;
using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Emit;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Parse;
using GraphCompiler.Generators.Passes;
using GraphCompiler.Generators.Plan;
using GraphCompiler.Generators.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GraphCompiler.Generators;

/// <summary>
/// Compiles each <c>[Model]</c> class: Parse (symbols -> <see cref="ModelSpec"/>, the cache boundary) ->
/// graph -> shape inference -> fusion -> layout -> memory planning -> loop plan -> emit.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ModelGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, for incremental-cache tests.</summary>
    public static class Steps
    {
        public const string Models = nameof(Models);
        public const string UnsafeAllowed = nameof(UnsafeAllowed);
        public const string Modules = nameof(Modules);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ModelSpec> models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "GraphCompiler.ModelAttribute",
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, cancellation) => ParseSafely(ctx, cancellation, isModule: false))
            .WithTrackingName(Steps.Models);

        // [Module] classes are specs of their own, so that an edit to a module recompiles the models that use it.
        IncrementalValueProvider<EquatableArray<ModelSpec>> modules = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "GraphCompiler.ModuleAttribute",
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, cancellation) => ParseSafely(ctx, cancellation, isModule: true))
            .Collect()
            .Select(static (all, _) => all.ToEquatableArray())
            .WithTrackingName(Steps.Modules);

        IncrementalValueProvider<bool> unsafeAllowed = context.CompilationProvider
            .Select(static (c, _) => c.Options is CSharpCompilationOptions { AllowUnsafe: true })
            .WithTrackingName(Steps.UnsafeAllowed);

        context.RegisterSourceOutput(models.Combine(unsafeAllowed).Combine(modules),
            static (spc, pair) => Generate(spc, pair.Left.Left, pair.Left.Right, pair.Right));

        // A module's own mistakes are reported once, at the module, whether or not a model uses it.
        context.RegisterSourceOutput(modules, static (spc, all) =>
        {
            foreach (ModelSpec module in all)
            {
                foreach (DiagnosticInfo info in module.Diagnostics.Where(d => !d.CoveredByCompiler))
                {
                    spc.ReportDiagnostic(DiagnosticBag.ToDiagnostic(info));
                }
            }
        });
    }

    private static ModelSpec ParseSafely(GeneratorAttributeSyntaxContext ctx, System.Threading.CancellationToken cancellation, bool isModule)
    {
        var type = (INamedTypeSymbol)ctx.TargetSymbol;
        try
        {
            return CompilerErrors.MarkCovered(ModelParser.Parse(type, ctx.SemanticModel, cancellation, isModule), ctx.SemanticModel, cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LocationInfo? location = LocationInfo.From(type.Locations.FirstOrDefault());
            var diagnostic = new DiagnosticInfo(DiagnosticDescriptors.InternalError.Id, location,
                new[] { type.Name, Describe(e) }.ToEquatableArray());
            return new ModelSpec(null, type.Name, EquatableArray<LayerSpec>.Empty, null,
                new[] { diagnostic }.ToEquatableArray(), location, IsModule: isModule, FullName: ModelParser.FullName(type));
        }
    }

    private static void Generate(SourceProductionContext context, ModelSpec spec, bool unsafeAllowed, EquatableArray<ModelSpec> modules)
    {
        var diagnostics = new DiagnosticBag();
        diagnostics.AddRange(spec.Diagnostics);
        string? source = null;
        try
        {
            source = Compile(spec, unsafeAllowed, diagnostics, modules);
        }
        catch (Exception e)
        {
            diagnostics.Add(DiagnosticDescriptors.InternalError, spec.Location, spec.ClassName, Describe(e));
        }

        foreach (DiagnosticInfo info in diagnostics.Items.Where(d => !d.CoveredByCompiler))
        {
            context.ReportDiagnostic(DiagnosticBag.ToDiagnostic(info));
        }

        if (source is not null && !diagnostics.HasErrors)
        {
            string hint = (spec.Namespace is null ? "" : spec.Namespace + ".") + spec.ClassName + ".g.cs";
            context.AddSource(hint, source);
        }
    }

    /// <summary>The exception and where it was thrown, for the report a user files.</summary>
    private static string Describe(Exception e)
    {
        string? frame = e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        return e.GetType().Name + ": " + e.Message + (frame is null ? "" : " " + frame);
    }

    /// <summary>The pipeline after parsing: returns the source, or null after reporting why not.</summary>
    internal static string? Compile(ModelSpec spec, bool unsafeAllowed, DiagnosticBag diagnostics, EquatableArray<ModelSpec> modules = default)
    {
        if (diagnostics.HasErrors)
        {
            return null;
        }

        if (!unsafeAllowed)
        {
            diagnostics.Add(DiagnosticDescriptors.UnsafeRequired, spec.Location, spec.ClassName);
            return null;
        }

        ModelGraph? graph = GraphBuilder.Build(spec, diagnostics, modules);
        if (graph is null || !ShapeInference.Run(graph, diagnostics))
        {
            return null;
        }

        Fusion.Run(graph);
        Autodiff.Run(graph);
        LayoutChoice.Run(graph);
        MemoryPlanning.Run(graph);
        ModelPlan plan = LoopPlanner.Run(graph);
        return ModelEmitter.Emit(plan);
    }
}
