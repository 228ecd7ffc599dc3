using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Abstractions;

namespace GraphCompiler.Generators.Tests.Properties;

/// <summary>
/// Property tests of the generator on random declarations (<see cref="DeclarationGen"/>): stacks of convolutions
/// and pools (twins joined by + and *), linear layers, LSTM and GRU layers with initial states and every readout
/// (<c>x[.., i]</c>, <c>^k</c>, Select, h_n, c_n), reshapes, activations and heads. Properties: the generator never
/// throws and never reports GC9999; a valid declaration gets its source and no diagnostic; an invalid one (one
/// <see cref="Mutation"/>) gets its diagnostic at the mistake and no error elsewhere. Declarations are drawn from a
/// fixed seed, so every run tries the same ones; <see cref="SeedVariable"/> and <see cref="CountVariable"/> explore
/// further, and a failure prints the CsCheck seed of the declaration. A sample (one recurrent declaration;
/// <see cref="RunVariable"/> widens it) is also compiled, run and checked against the double-precision
/// reference: compiling generated code costs seconds per model, so thousands of them stay in the generator alone.
/// </summary>
public class GeneratorPropertyTests(ITestOutputHelper output)
{
    public const string SeedVariable = "GRAPHCOMPILER_PROPERTY_SEED";
    public const string CountVariable = "GRAPHCOMPILER_PROPERTY_DECLARATIONS";
    public const string RunVariable = "GRAPHCOMPILER_PROPERTY_RUN_PER_FORM";
    private const string Namespace = "Properties";
    private const int PerCompilation = 100;

    /// <summary>Per run: a valid declaration costs the generator's whole pipeline, an invalid one stops early.</summary>
    private const int ValidPerRun = 700, InvalidPerRun = 1000;
    private const double Rtol = 1e-4, Atol = 1e-5;

    private static ulong Seed => ulong.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong s) ? s : 20_250_301;

    private static int ReadInt(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : fallback;

    [Fact]
    public void Valid_declarations_generate_without_any_diagnostic()
    {
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int tried = Check(stream: 0, mutate: false, ValidPerRun, failures, (run, c) =>
        {
            string[] reported = [.. DiagnosticsOf(run, c).Select(Describe)];
            if (reported.Length > 0)
            {
                failures.Add($"{c}reported:{Environment.NewLine}{string.Join(Environment.NewLine, reported)}");
            }
            else if (!run.GeneratedSources.ContainsKey($"{Namespace}.{c.Written.ClassName}.g.cs"))
            {
                failures.Add($"{c}no source was generated");
            }
        });

        output.WriteLine($"{tried} valid declarations tried, {failures.Count} failures, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine + Environment.NewLine, failures.Take(5)));
    }

    [Fact]
    public void Invalid_declarations_report_their_mistake_where_it_is()
    {
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        var byKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int tried = Check(stream: 1, mutate: true, InvalidPerRun, failures, (run, c) =>
        {
            string kind = c.Written.What.Split(' ')[0];
            byKind[kind] = byKind.GetValueOrDefault(kind) + 1;
            Diagnostic[] reported = [.. DiagnosticsOf(run, c)];
            TextSpan mistake = c.Written.Mistake!.Value;
            bool found = reported.Any(d => d.Id == c.Written.ExpectedId && c.At(d.Location.SourceSpan) == mistake);
            Diagnostic[] elsewhere = [.. reported.Where(d => d.Severity == DiagnosticSeverity.Error && !mistake.Contains(c.At(d.Location.SourceSpan)))];
            if (!found || elsewhere.Length > 0)
            {
                failures.Add($"{c}expected {c.Written.ExpectedId} at '{c.Written.Text[mistake.Start..mistake.End]}'; reported:{Environment.NewLine}" +
                    string.Join(Environment.NewLine, reported.Select(Describe)));
            }
        });

        output.WriteLine($"{tried} invalid declarations tried ({string.Join(", ", byKind.Select(p => $"{p.Key} {p.Value}"))}), {failures.Count} failures, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine + Environment.NewLine, failures.Take(5)));
    }

    /// <summary>Runs the generator on every batch of a stream, adds its own failures, and checks each declaration; returns how many were tried.</summary>
    private static int Check(uint stream, bool mutate, int count, List<string> failures, Action<GeneratorRun, Case> check)
    {
        int tried = 0;
        GeneratorRun? previous = null;
        foreach (Case[] batch in Batches(ReadInt(CountVariable, count), stream, mutate))
        {
            GeneratorRun run = previous = Generate(batch, previous);
            tried += batch.Length;
            failures.AddRange(GeneratorFailures(run));
            foreach (Case c in batch)
            {
                check(run, c);
            }
        }

        return tried;
    }

    [Fact]
    public void Sampled_valid_declarations_compute_like_the_double_reference()
    {
        // Compiling generated code is what costs here (2,000 to 8,000 lines per model, seconds each), so CI runs the
        // first declaration whose flat input is reshaped into a recurrent layer (random convolutional models run in
        // RandomModelTests); RunVariable=n runs the first n of every input form.
        var clock = Stopwatch.StartNew();
        int perForm = ReadInt(RunVariable, 0);
        InputForm[] forms = perForm > 0 ? Enum.GetValues<InputForm>() : [InputForm.FlatToSequence];
        Case[] sample = [.. Enumerable.Range(0, 1000).Select(i => Draw(i, stream: 2, mutate: false))
            .Where(c => forms.Contains(c.Model.Form)).GroupBy(c => c.Model.Form).OrderBy(g => g.Key).SelectMany(g => g.Take(Math.Max(perForm, 1)))];
        GeneratorRun run = Generate(sample, previous: null);
        var failures = new List<string>(GeneratorFailures(run));
        using LoadedAssembly loaded = run.Load();
        foreach (Case c in sample)
        {
            string generated = $"{Namespace}.{c.Written.ClassName}.g.cs";
            string[] warnings = [.. loaded.EmitDiagnostics
                .Where(d => d.Severity >= DiagnosticSeverity.Warning && Path.GetFileName(d.Location.GetLineSpan().Path) == generated)
                .Select(Describe)];
            if (warnings.Length > 0)
            {
                failures.Add($"{c}its generated code has warnings:{Environment.NewLine}{string.Join(Environment.NewLine, warnings)}");
                continue;
            }

            int batch = 1 + c.Index % 9;
            object model = loaded.CreateInstance($"{Namespace}.{c.Written.ClassName}", batch + c.Index % 3, 100 + c.Index);
            ParameterSet parameters = RandomModels.RandomModelSet.Parameters(model);
            float[] x = c.Model.Input(batch, seed: 7 * c.Index + 1);
            var y = new float[batch * c.Model.OutputSize];
            RandomModels.RandomModelSet.Forward(model)(x, y);
            float[] expected = c.Model.Reference(x, batch, name => [.. parameters.Read(name).ToArray().Select(v => (double)v)]);
            try
            {
                GraphCompiler.Tests.Reference.Close.Assert(expected, y, Rtol, Atol, $"batch of {batch}");
            }
            catch (Xunit.Sdk.XunitException e)
            {
                failures.Add($"{c}{e.Message}");
            }
        }

        output.WriteLine($"{sample.Length} valid declarations compiled and run against the reference, {failures.Count} failures, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine + Environment.NewLine, failures.Take(5)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_declarations()
    {
        // Reproducing a failure from its printed seed depends on it.
        string first = string.Concat(Batches(20, stream: 1, mutate: true).SelectMany(b => b).Select(c => c.Written.Text));
        string second = string.Concat(Batches(20, stream: 1, mutate: true).SelectMany(b => b).Select(c => c.Written.Text));
        Assert.Equal(first, second);
    }

    /// <summary>One declaration in the shared file: where its class starts, to turn file spans into its own.</summary>
    public sealed record Case(int Index, PCG Pcg, ResolvedModel Model, WrittenModel Written)
    {
        public int Start { get; set; }

        public TextSpan At(TextSpan fileSpan) => new(fileSpan.Start - Start, fileSpan.Length);

        public override string ToString() =>
            $"Declaration {Index} ({Written.What}; CsCheck seed \"{Pcg}\" of {nameof(DeclarationGen)}):{Environment.NewLine}{Written.Text}";
    }

    private static IEnumerable<Case[]> Batches(int count, uint stream, bool mutate)
    {
        for (int start = 0; start < count; start += PerCompilation)
        {
            yield return [.. Enumerable.Range(start, Math.Min(PerCompilation, count - start)).Select(i => Draw(i, stream, mutate))];
        }
    }

    /// <summary>Declaration <paramref name="i"/> of a stream: stream 0 valid ones, 1 invalid ones, 2 the sample that runs.</summary>
    private static Case Draw(int i, uint stream, bool mutate)
    {
        int index = (int)(stream * 1_000_000) + i;
        PCG pcg = DeclarationGen.Pcg(Seed, index);
        Declaration declaration = DeclarationGen.Draw(DeclarationGen.Model, Seed, index);
        Mutation? mutation = mutate ? DeclarationGen.Draw(DeclarationGen.Mistake, Seed ^ 0x5bd1e995, index) : null;
        ResolvedModel model = ResolvedModel.Resolve(declaration, "Declaration" + i.ToString(CultureInfo.InvariantCulture));
        return new Case(i, pcg, model, ModelWriter.Write(model, mutation));
    }

    /// <summary>
    /// The generator on one file holding every declaration of the batch (the compiler's own pass over the output is
    /// left out). After the first batch, the file of the <paramref name="previous"/> run is replaced, which keeps the
    /// compilation's bound references: most of the cost of a fresh compilation.
    /// </summary>
    private static GeneratorRun Generate(Case[] batch, GeneratorRun? previous)
    {
        var text = new StringBuilder(TestSource.ModelUsings).AppendLine($"namespace {Namespace};").AppendLine();
        foreach (Case c in batch)
        {
            c.Start = text.Length;
            text.Append(c.Written.Text).AppendLine();
        }

        GeneratorRun run = previous is null
            ? GeneratorHarness.Run(HarnessOptions.Default with { CompileOutput = false }, text.ToString())
            : previous.RerunWithReplacedSource(0, text.ToString());
        Diagnostic[] userErrors = [.. run.InputCompilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)];
        Assert.True(userErrors.Length == 0, "The declarations themselves do not compile (a test bug):" + Environment.NewLine +
            string.Join(Environment.NewLine, userErrors.Take(5).Select(d => Describe(d) + " in " + batch.FirstOrDefault(c => c.Start <= d.Location.SourceSpan.Start && d.Location.SourceSpan.Start < c.Start + c.Written.Text.Length))));
        return run;
    }

    /// <summary>What escaped the generator or was reported as its own failure.</summary>
    private static IEnumerable<string> GeneratorFailures(GeneratorRun run)
    {
        if (run.GeneratorException is { } e)
        {
            yield return "The generator threw: " + e;
        }

        foreach (Diagnostic d in run.GeneratorDiagnostics.Where(d => d.Id is "GC9999" or "CS8785"))
        {
            yield return "The generator failed: " + Describe(d);
        }
    }

    /// <summary>The generator's diagnostics that point into this declaration (warnings included).</summary>
    private static IEnumerable<Diagnostic> DiagnosticsOf(GeneratorRun run, Case c)
    {
        SyntaxTree tree = run.SourceTrees[0];
        var span = new TextSpan(c.Start, c.Written.Text.Length);
        return run.GeneratorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning
            && DiagnosticAssert.IsIn(d.Location, tree) && span.Contains(d.Location.SourceSpan));
    }

    private static string Describe(Diagnostic d) => $"  {d.Id} {d.Severity}: {d.GetMessage(CultureInfo.InvariantCulture)}";
}
