using System.Text;
using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>How <see cref="GeneratorHarness"/> builds the compilation it runs the generator on.</summary>
public sealed record HarnessOptions
{
    public static readonly HarnessOptions Default = new();

    /// <summary>
    /// Add the SDK's implicit global usings (System, System.Linq, ...), as a user's project has them by
    /// default. Turn off to check that generated code spells every name with <c>global::</c>.
    /// </summary>
    public bool ImplicitUsings { get; init; } = true;

    /// <summary>Run the analyzers and suppressors shipped in the generator assembly (the CS0649 suppressor).</summary>
    public bool RunShippedAnalyzers { get; init; } = true;

    /// <summary>
    /// Compile the output after generation to collect <see cref="GeneratorRun.CompilationDiagnostics"/>. That is
    /// most of a run's time for big models; tests that only read the generated text or the tracked steps may turn
    /// it off. <see cref="DiagnosticAssert"/> refuses such runs, since they would hide every compiler diagnostic.
    /// </summary>
    public bool CompileOutput { get; init; } = true;

    /// <summary><c>build_property.*</c> style global options the generator may read.</summary>
    public ImmutableDictionary<string, string> GlobalOptions { get; init; } = ImmutableDictionary<string, string>.Empty;

    public string AssemblyName { get; init; } = "GeneratorTestAssembly";
}

/// <summary>
/// Runs <see cref="ModelGenerator"/> in memory on source text, the way the compiler would in a user's
/// project: .NET 10 reference assemblies, the GraphCompiler runtime, latest C#, nullable on, unsafe
/// allowed, every warning wave on (a user's build may treat warnings as errors).
/// </summary>
public static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions =
        CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);

    public static readonly CSharpCompilationOptions CompilationOptions =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
            .WithAllowUnsafe(true)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithOptimizationLevel(OptimizationLevel.Release)
            // The SDK enables all warning waves for current target frameworks; match it.
            .WithWarningLevel(9999)
            .WithDeterministic(true);

    /// <summary>.NET 10 reference assemblies plus the runtime library the attributes live in.</summary>
    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Basic.Reference.Assemblies.Net100.References.All,
        MetadataReference.CreateFromFile(typeof(GraphCompiler.ModelAttribute).Assembly.Location),
    ];

    /// <summary>The SDK's implicit usings for <c>Microsoft.NET.Sdk</c>.</summary>
    public const string ImplicitUsingsSource = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    /// <summary>The file name a source gets in the compilation (diagnostics print it).</summary>
    public static string SourcePath(int index) => $"Source{index}.cs";

    public static GeneratorRun Run(params string[] sources) => Run(HarnessOptions.Default, sources);

    public static GeneratorRun Run(TestSource source) => Run(HarnessOptions.Default, source.Text);

    public static GeneratorRun Run(HarnessOptions options, params string[] sources)
    {
        ImmutableArray<SyntaxTree> userTrees =
            [.. sources.Select((text, i) => CSharpSyntaxTree.ParseText(text, ParseOptions, SourcePath(i), Encoding.UTF8))];
        // The implicit usings go after the user's trees, so that source i is syntax tree i.
        IEnumerable<SyntaxTree> allTrees = options.ImplicitUsings
            ? userTrees.Append(CSharpSyntaxTree.ParseText(ImplicitUsingsSource, ParseOptions, "GlobalUsings.g.cs", Encoding.UTF8))
            : userTrees;

        var compilation = CSharpCompilation.Create(options.AssemblyName, allTrees, References, CompilationOptions);

        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            generators: [new ModelGenerator().AsSourceGenerator()],
            additionalTexts: [],
            parseOptions: ParseOptions,
            optionsProvider: new GlobalOptionsProvider(options.GlobalOptions),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

        return RunDriver(driver, compilation, userTrees, options);
    }

    /// <summary>Runs an existing driver (which keeps the previous run's cache) on an edited compilation.</summary>
    internal static GeneratorRun RunDriver(
        GeneratorDriver driver, CSharpCompilation compilation, ImmutableArray<SyntaxTree> userTrees, HarnessOptions options)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorDriverRunResult runResult = driver.GetRunResult();

        var generated = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (GeneratedSourceResult source in runResult.Results.SelectMany(r => r.GeneratedSources))
            generated.Add(source.HintName, source.SourceText.ToString());

        (ImmutableArray<Diagnostic> reported, ImmutableArray<Diagnostic> suppressed) =
            options.CompileOutput ? CompileDiagnostics(output, options) : ([], []);

        return new GeneratorRun(
            InputCompilation: compilation,
            OutputCompilation: output,
            Driver: driver,
            RunResult: runResult,
            SourceTrees: userTrees,
            GeneratedSources: generated,
            GeneratorDiagnostics: generatorDiagnostics,
            CompilationDiagnostics: reported,
            SuppressedDiagnostics: suppressed,
            Options: options);
    }

    /// <summary>
    /// Errors and warnings of the compilation after generation, with the shipped suppressors applied the
    /// way the IDE and the build apply them (a suppressed warning does not fail a warnings-as-errors build).
    /// </summary>
    private static (ImmutableArray<Diagnostic> Reported, ImmutableArray<Diagnostic> Suppressed) CompileDiagnostics(
        Compilation output, HarnessOptions options)
    {
        ImmutableArray<DiagnosticAnalyzer> analyzers = options.RunShippedAnalyzers ? ShippedAnalyzers.Value : [];
        ImmutableArray<Diagnostic> all = analyzers.IsEmpty
            ? output.GetDiagnostics()
            : output.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
                    new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false,
                    logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true))
                .GetAllDiagnosticsAsync().GetAwaiter().GetResult();

        ImmutableArray<Diagnostic> relevant = [.. all.Where(d => d.Severity >= DiagnosticSeverity.Warning).OrderBy(d => d.Location.SourceSpan.Start)];
        return ([.. relevant.Where(d => !d.IsSuppressed)], [.. relevant.Where(d => d.IsSuppressed)]);
    }

    /// <summary>Analyzers and suppressors declared in the generator assembly, found by reflection so new ones join automatically.</summary>
    private static readonly Lazy<ImmutableArray<DiagnosticAnalyzer>> ShippedAnalyzers = new(() =>
    [
        .. typeof(ModelGenerator).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(DiagnosticAnalyzer).IsAssignableFrom(t)
                        && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!),
    ]);

    private sealed class GlobalOptionsProvider(ImmutableDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        private readonly DictionaryOptions global = new(values);
        private static readonly DictionaryOptions Empty = new(ImmutableDictionary<string, string>.Empty);

        public override AnalyzerConfigOptions GlobalOptions => global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Empty;
    }

    private sealed class DictionaryOptions(ImmutableDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
            values.TryGetValue(key, out value);
    }
}
