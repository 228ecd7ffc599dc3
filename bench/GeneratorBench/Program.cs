using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using GraphCompiler.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GraphCompiler.GeneratorBench;

/// <summary>
/// The generator's own cost on the models the samples declare: a clean run (a new driver, as a clean build
/// or an IDE opening the project) and the run after an unrelated edit (as on each keystroke elsewhere).
/// `--check` runs both once and verifies that the unrelated edit regenerated nothing.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("--check"))
        {
            return Check();
        }

        BenchmarkRunner.Run<GeneratorRuns>(DefaultConfig.Instance.WithOptions(ConfigOptions.DisableOptimizationsValidator), args);
        return 0;
    }

    private static int Check()
    {
        var runs = new GeneratorRuns();
        runs.Setup();
        GeneratorDriverRunResult clean = runs.Clean().GetRunResult();
        int generated = clean.GeneratedTrees.Length;
        Console.WriteLine($"models: {string.Join(", ", GeneratorRuns.ModelFiles().Select(Path.GetFileName))}");
        Console.WriteLine($"clean run: {generated} generated files, {clean.Diagnostics.Length} diagnostics");
        GeneratorRunResult edited = runs.UnrelatedEdit().GetRunResult().Results.Single();
        var reasons = edited.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        bool nothing = reasons.All(r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        Console.WriteLine($"unrelated edit: {reasons.Count} outputs, {(nothing ? "none regenerated" : "REGENERATED: " + string.Join(", ", reasons))}");
        // A quick timing beside the check (the BenchmarkDotNet run is the reference figure).
        var cleanTimes = new List<double>();
        var editTimes = new List<double>();
        for (int i = 0; i < 25; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            runs.Clean();
            cleanTimes.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            runs.UnrelatedEdit();
            editTimes.Add(watch.Elapsed.TotalMilliseconds);
        }

        cleanTimes.Sort();
        editTimes.Sort();
        Console.WriteLine(FormattableString.Invariant($"clean run: median {cleanTimes[12]:F1} ms, min {cleanTimes[0]:F1} ms; unrelated edit: median {editTimes[12]:F1} ms (25 runs, Stopwatch)"));
        return generated > 0 && clean.Diagnostics.IsEmpty && nothing ? 0 : 1;
    }
}

[MemoryDiagnoser]
public class GeneratorRuns
{
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _warm = null!;
    private SyntaxTree _unrelated = null!;

    /// <summary>Every file of samples/ that declares a [Model].</summary>
    public static IEnumerable<string> ModelFiles()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "GraphCompiler.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Run from inside the repository.");
        }

        return Directory.EnumerateFiles(Path.Combine(root, "samples"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && File.ReadAllText(f).Contains("[Model]", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
    }

    [GlobalSetup]
    public void Setup()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = ModelFiles().Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f)).ToList();
        _unrelated = CSharpSyntaxTree.ParseText("namespace Elsewhere; public static class Notes { public const int Count = 1; }", parse, "Notes.cs");
        trees.Add(_unrelated);
        ImmutableArray<MetadataReference> references =
        [
            .. Basic.Reference.Assemblies.Net100.References.All,
            MetadataReference.CreateFromFile(typeof(ModelAttribute).Assembly.Location),
        ];
        _compilation = CSharpCompilation.Create("Samples", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        _warm = NewDriver().RunGenerators(_compilation);
    }

    private static GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
        [new ModelGenerator().AsSourceGenerator()],
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>A clean build: a new driver runs the generator on every model.</summary>
    [Benchmark(Baseline = true)]
    public GeneratorDriver Clean() => NewDriver().RunGenerators(_compilation);

    /// <summary>An edit in a file without models, after a first run: the incremental pipeline should reuse everything.</summary>
    [Benchmark]
    public GeneratorDriver UnrelatedEdit()
    {
        SyntaxTree edited = _unrelated.WithChangedText(_unrelated.GetText().Replace(0, 0, "// edited\n"));
        return _warm.RunGenerators(_compilation.ReplaceSyntaxTree(_unrelated, edited));
    }
}
