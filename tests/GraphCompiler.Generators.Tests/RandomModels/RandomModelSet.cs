using System.Globalization;
using System.Reflection;
using System.Text;
using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators.Tests.RandomModels;

/// <summary><c>Forward(ReadOnlySpan&lt;float&gt;, Span&lt;float&gt;)</c> of a generated model, bound to one instance.</summary>
public delegate void ForwardFunction(ReadOnlySpan<float> input, Span<float> output);

/// <summary>
/// Every random case (and the fixed <see cref="ChecksModel"/>) compiled together, once: one Roslyn compilation
/// for all of them keeps the suite fast. The seed and the number of cases can be changed from the environment
/// to explore further (<see cref="SeedVariable"/>, <see cref="CountVariable"/>); a failure prints the seed.
/// </summary>
public sealed class RandomModelSet : IDisposable
{
    public const string Namespace = "RandomModels";
    public const string SeedVariable = "GRAPHCOMPILER_RANDOM_MODEL_SEED";
    public const string CountVariable = "GRAPHCOMPILER_RANDOM_MODEL_CASES";
    private const int DefaultSeed = 20_240_917;
    private const int DefaultCount = 12;

    /// <summary>A fixed model for the run-time checks: input [2, 4, 4] (32 floats), output [5].</summary>
    public const string ChecksModel = """
        [Model]
        public partial class Checks
        {
            [Conv2d(2, 3, Kernel = 3, Padding = 1)] readonly Layer conv;
            [Linear(48, 5)]                         readonly Layer fc;

            [Forward]
            Tensor Forward([Shape(2, 4, 4)] Tensor x) => Softmax(fc(Flatten(Relu(conv(x)))));
        }
        """;

    private readonly Lazy<(GeneratorRun Run, LoadedAssembly? Loaded, string? Error)> compiled;

    public RandomModelSet()
    {
        Cases = [.. Enumerable.Range(0, Count).Select(i => RandomModelCase.Draw(Seed, i))];
        compiled = new Lazy<(GeneratorRun, LoadedAssembly?, string?)>(Compile, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public static int Seed => ReadVariable(SeedVariable, DefaultSeed);

    public static int Count => ReadVariable(CountVariable, DefaultCount);

    public IReadOnlyList<RandomModelCase> Cases { get; }

    public GeneratorRun Run => compiled.Value.Run;

    /// <summary>Creates model <paramref name="className"/> with (maxBatch, seed); fails with the compilation's errors if it did not build.</summary>
    public object Create(string className, int maxBatch, int seed)
    {
        (_, LoadedAssembly? loaded, string? error) = compiled.Value;
        if (loaded is null) Xunit.Assert.Fail(error);
        return loaded.CreateInstance(Namespace + "." + className, maxBatch, seed);
    }

    public static ForwardFunction Forward(object model) =>
        model.GetType().GetMethod("Forward", BindingFlags.Public | BindingFlags.Instance, [typeof(ReadOnlySpan<float>), typeof(Span<float>)])!
            .CreateDelegate<ForwardFunction>(model);

    public static ParameterSet Parameters(object model) =>
        (ParameterSet)model.GetType().GetProperty("Parameters")!.GetValue(model)!;

    public static int Constant(object model, string name) =>
        (int)model.GetType().GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>
    /// What a user would see about one model, warnings included: the generator's diagnostics on its declaration
    /// and the compiler's on its generated file. Empty until <see cref="Create"/> (or this) has compiled the set.
    /// </summary>
    public IEnumerable<Diagnostic> DiagnosticsOf(string className)
    {
        (GeneratorRun run, LoadedAssembly? loaded, _) = compiled.Value;
        SyntaxTree tree = run.SourceTrees[0];
        Microsoft.CodeAnalysis.Text.TextSpan declaration = tree.GetRoot().DescendantNodes()
            .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax>()
            .Single(c => c.Identifier.Text == className).FullSpan;
        string generatedFile = $"{Namespace}.{className}.g.cs";
        // The set is compiled once, by the emit that builds it (no analyzers, so the layer-field warnings that the
        // shipped suppressor silences show up there; the snapshot tests check the suppressor on the real thing).
        IEnumerable<Diagnostic> compiler = loaded?.EmitDiagnostics ?? [];
        return run.GeneratorDiagnostics.Concat(compiler).Where(d => d.Severity >= DiagnosticSeverity.Warning
            && ((DiagnosticAssert.IsIn(d.Location, tree) && declaration.Contains(d.Location.SourceSpan) && !SuppressedForLayers.Contains(d.Id))
                || Path.GetFileName(d.Location.GetLineSpan().Path) == generatedFile));
    }

    /// <summary>The IDs the shipped LayerMemberSuppressor silences on layer members.</summary>
    private static readonly HashSet<string> SuppressedForLayers = ["CS0649", "CS0169", "CS0414", "CS8618"];

    private (GeneratorRun, LoadedAssembly?, string?) Compile()
    {
        var source = new StringBuilder(TestSource.ModelUsings)
            .AppendLine(CultureInfo.InvariantCulture, $"namespace {Namespace};").AppendLine()
            .AppendLine(ChecksModel);
        foreach (RandomModelCase c in Cases) source.AppendLine().Append(c.Source());

        // Compiled once, by Load: a second compilation only for CompilationDiagnostics would double the cost.
        GeneratorRun run = GeneratorHarness.Run(HarnessOptions.Default with { CompileOutput = false }, source.ToString());
        try
        {
            return (run, run.Load(), null);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            // One broken model breaks the shared assembly: every case fails, each naming the errors.
            return (run, null, $"The random models (seed {Seed}) do not compile:{Environment.NewLine}{e.Message}");
        }
    }

    private static int ReadVariable(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;

    public void Dispose()
    {
        if (compiled.IsValueCreated) compiled.Value.Loaded?.Dispose();
    }
}
