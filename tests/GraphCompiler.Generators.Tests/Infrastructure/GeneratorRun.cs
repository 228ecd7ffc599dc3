using System.Text;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>
/// One run of the generator: what it produced, what it reported, and the driver to run it again
/// incrementally. Produced by <see cref="GeneratorHarness.Run(string[])"/>.
/// </summary>
/// <param name="InputCompilation">The user's compilation, before generation.</param>
/// <param name="OutputCompilation">The compilation with the generated sources added.</param>
/// <param name="Driver">The driver after this run; it holds the incremental cache.</param>
/// <param name="SourceTrees">The user's sources, in the order given (tree i is <c>Source{i}.cs</c>).</param>
/// <param name="GeneratedSources">Hint name (<c>MnistCnn.g.cs</c>) to generated text, in ordinal order.</param>
/// <param name="GeneratorDiagnostics">What the generator reported (GCxxxx; CS8785 if it threw).</param>
/// <param name="CompilationDiagnostics">Errors and warnings of <see cref="OutputCompilation"/>, shipped suppressors applied.</param>
/// <param name="SuppressedDiagnostics">Warnings a shipped suppressor silenced (to test the suppressor).</param>
public sealed record GeneratorRun(
    CSharpCompilation InputCompilation,
    Compilation OutputCompilation,
    GeneratorDriver Driver,
    GeneratorDriverRunResult RunResult,
    ImmutableArray<SyntaxTree> SourceTrees,
    IReadOnlyDictionary<string, string> GeneratedSources,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> CompilationDiagnostics,
    ImmutableArray<Diagnostic> SuppressedDiagnostics,
    HarnessOptions Options)
{
    /// <summary>The result of the one generator under test.</summary>
    public GeneratorRunResult Result => RunResult.Results[0];

    /// <summary>An exception that escaped the generator (the compiler turns it into CS8785).</summary>
    public Exception? GeneratorException => Result.Exception;

    /// <summary>Generator diagnostics followed by compilation diagnostics.</summary>
    public ImmutableArray<Diagnostic> AllDiagnostics => GeneratorDiagnostics.AddRange(CompilationDiagnostics);

    /// <summary>The generated text for <paramref name="hintName"/>; fails with the list of hint names if absent.</summary>
    public string Source(string hintName) =>
        GeneratedSources.TryGetValue(hintName, out string? text)
            ? text
            : throw new Xunit.Sdk.XunitException(
                $"No generated source '{hintName}'. Generated: [{string.Join(", ", GeneratedSources.Keys)}]");

    // ---- Incremental re-runs ---------------------------------------------------------------------------

    /// <summary>Runs again on the same compilation; every step should then be Cached.</summary>
    public GeneratorRun Rerun() => Rerun(c => c);

    /// <summary>Runs again after replacing user source <paramref name="index"/> (same file path) with <paramref name="newText"/>.</summary>
    public GeneratorRun RerunWithReplacedSource(int index, string newText)
    {
        SyntaxTree old = SourceTrees[index];
        SyntaxTree replacement = CSharpSyntaxTree.ParseText(newText, GeneratorHarness.ParseOptions, old.FilePath, Encoding.UTF8);
        return GeneratorHarness.RunDriver(
            Driver, InputCompilation.ReplaceSyntaxTree(old, replacement), SourceTrees.SetItem(index, replacement), Options);
    }

    /// <summary>Runs again with one more user source (an unrelated edit, typically).</summary>
    public GeneratorRun RerunWithAddedSource(string text)
    {
        SyntaxTree added = CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, GeneratorHarness.SourcePath(SourceTrees.Length), Encoding.UTF8);
        return GeneratorHarness.RunDriver(Driver, InputCompilation.AddSyntaxTrees(added), SourceTrees.Add(added), Options);
    }

    /// <summary>Runs again on an arbitrarily edited compilation (user trees are kept as they were).</summary>
    public GeneratorRun Rerun(Func<CSharpCompilation, CSharpCompilation> edit) =>
        GeneratorHarness.RunDriver(Driver, edit(InputCompilation), SourceTrees, Options);

    // ---- Tracked steps -----------------------------------------------------------------------------------

    /// <summary>Steps named with <c>WithTrackingName</c> (and Roslyn's own), by name.</summary>
    public ImmutableDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> TrackedSteps => Result.TrackedSteps;

    /// <summary>The output steps (<c>SourceOutput</c>, <c>ImplementationSourceOutput</c>), by kind.</summary>
    public ImmutableDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> TrackedOutputSteps => Result.TrackedOutputSteps;

    /// <summary>The reason of every output of every execution of step <paramref name="stepName"/> in this run.</summary>
    public ImmutableArray<IncrementalStepRunReason> StepReasons(string stepName) =>
        [.. Executions(TrackedSteps, stepName).SelectMany(s => s.Outputs).Select(o => o.Reason)];

    /// <summary>The values step <paramref name="stepName"/> produced in this run (to check them with <see cref="SpecPurity"/>).</summary>
    public ImmutableArray<object> StepOutputs(string stepName) =>
        [.. Executions(TrackedSteps, stepName).SelectMany(s => s.Outputs).Select(o => o.Value)];

    /// <summary>The reasons of all output-step outputs (source and diagnostic outputs) in this run.</summary>
    public ImmutableArray<IncrementalStepRunReason> OutputReasons() =>
        [.. TrackedOutputSteps.Values.SelectMany(steps => steps).SelectMany(s => s.Outputs).Select(o => o.Reason)];

    /// <summary>"Step: Cached, Unchanged" per line, for failure messages.</summary>
    public string DescribeSteps()
    {
        static IEnumerable<string> Lines(ImmutableDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps, string prefix) =>
            steps.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
                $"{prefix}{p.Key}: {string.Join(", ", p.Value.SelectMany(s => s.Outputs).Select(o => o.Reason))}");
        return string.Join(Environment.NewLine, Lines(TrackedSteps, "").Concat(Lines(TrackedOutputSteps, "output ")));
    }

    private static ImmutableArray<IncrementalGeneratorRunStep> Executions(
        ImmutableDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps, string stepName) =>
        steps.TryGetValue(stepName, out ImmutableArray<IncrementalGeneratorRunStep> runs)
            ? runs
            : throw new Xunit.Sdk.XunitException(
                $"Step '{stepName}' was not tracked. Tracked: [{string.Join(", ", steps.Keys.Order(StringComparer.Ordinal))}]");

    // ---- Loading the result ------------------------------------------------------------------------------

    /// <summary>
    /// Emits <see cref="OutputCompilation"/> and loads it into a collectible load context (fails with
    /// the errors if it does not compile). Dispose the result to unload it. GraphCompiler itself
    /// resolves to the test's own copy, so runtime types can be shared with the test.
    /// </summary>
    public LoadedAssembly Load()
    {
        using var pe = new MemoryStream();
        using var pdb = new MemoryStream();
        EmitResult emit = OutputCompilation.Emit(pe, pdb, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.PortablePdb));
        if (!emit.Success)
        {
            throw new Xunit.Sdk.XunitException("The generated compilation does not emit:" + Environment.NewLine +
                string.Join(Environment.NewLine, emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(Format)));
        }
        pe.Position = 0;
        pdb.Position = 0;
        var context = new AssemblyLoadContext($"{Options.AssemblyName}-{Guid.NewGuid():N}", isCollectible: true);
        return new LoadedAssembly(context, context.LoadFromStream(pe, pdb), emit.Diagnostics);
    }

    /// <summary><c>Source0.cs(3,17): warning CS0649: ...</c>, for messages.</summary>
    public static string Format(Diagnostic diagnostic) => diagnostic.ToString();

    /// <summary>The text a diagnostic points at, for messages.</summary>
    public static string SourceTextAt(Diagnostic diagnostic)
    {
        Location location = diagnostic.Location;
        if (!location.IsInSource || location.SourceTree is null) return "";
        SourceText text = location.SourceTree.GetText();
        return location.SourceSpan.End <= text.Length ? text.ToString(location.SourceSpan) : "";
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"GeneratorRun: {GeneratedSources.Count} sources, {GeneratorDiagnostics.Length} generator and {CompilationDiagnostics.Length} compilation diagnostics");
}
