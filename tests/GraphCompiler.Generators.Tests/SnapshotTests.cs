using GraphCompiler.Generators.Tests.Infrastructure;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// The generated code itself, kept under Snapshots/ so that every change to what the generator prints shows
/// up as a reviewed diff. Kernel tuning changes these files on purpose: accept the new output with
/// <c>GRAPHCOMPILER_ACCEPT_SNAPSHOTS=1 dotnet test tests/GraphCompiler.Generators.Tests</c>, then review and
/// commit <c>git diff tests/GraphCompiler.Generators.Tests/Snapshots</c>.
/// </summary>
public class SnapshotTests
{
    /// <summary>For the tests that read only the generated text: compiling it is checked once, by its own test.</summary>
    private static readonly HarnessOptions TextOnly = HarnessOptions.Default with { CompileOutput = false };

    [Fact]
    public void MnistCnn_generated_code_matches_the_snapshot()
    {
        GeneratorRun run = GeneratorHarness.Run(TextOnly, ModelSources.MnistCnn);

        Assert.Equal(["Mnist.MnistCnn.g.cs"], run.GeneratedSources.Keys);
        MatchSnapshot(run.Source("Mnist.MnistCnn.g.cs"), "MnistCnn#Mnist.MnistCnn.g");
    }

    [Fact]
    public void TinyClassifier_generated_code_matches_the_snapshot()
    {
        GeneratorRun run = GeneratorHarness.Run(TextOnly, ModelSources.TinyClassifier);

        Assert.Equal(["App.TinyClassifier.g.cs"], run.GeneratedSources.Keys);
        MatchSnapshot(run.Source("App.TinyClassifier.g.cs"), "TinyClassifier#App.TinyClassifier.g");
    }

    [Fact]
    public void SeedRnn_generated_code_matches_the_snapshot()
    {
        GeneratorRun run = GeneratorHarness.Run(TextOnly, ModelSources.SeedRnn);

        Assert.Equal(["Sequences.SeedRnn.g.cs"], run.GeneratedSources.Keys);
        MatchSnapshot(run.Source("Sequences.SeedRnn.g.cs"), "SeedRnn#Sequences.SeedRnn.g");
    }

    [Fact]
    public void TinyGru_generated_code_matches_the_snapshot()
    {
        GeneratorRun run = GeneratorHarness.Run(TextOnly, ModelSources.TinyGru);

        Assert.Equal(["App.TinyGru.g.cs"], run.GeneratedSources.Keys);
        MatchSnapshot(run.Source("App.TinyGru.g.cs"), "TinyGru#App.TinyGru.g");
    }

    [Fact]
    public void TinySeq2Seq_generated_code_matches_the_snapshot()
    {
        // [Module] classes get no file of their own: they are inlined into the model that holds them.
        GeneratorRun run = GeneratorHarness.Run(TextOnly, ModelSources.TinySeq2Seq);

        Assert.Equal(["Translate.TinySeq2Seq.g.cs"], run.GeneratedSources.Keys);
        MatchSnapshot(run.Source("Translate.TinySeq2Seq.g.cs"), "TinySeq2Seq#Translate.TinySeq2Seq.g");
    }

    [Theory]
    [InlineData(nameof(ModelSources.MnistCnn))]
    [InlineData(nameof(ModelSources.TinyClassifier))]
    [InlineData(nameof(ModelSources.SeedRnn))]
    [InlineData(nameof(ModelSources.TinyGru))]
    [InlineData(nameof(ModelSources.TinySeq2Seq))]
    public void Generated_code_compiles_without_any_diagnostic(string model)
    {
        // Warnings count: the product and its users build with warnings as errors.
        GeneratorRun run = GeneratorHarness.Run(Source(model));

        Assert.Null(run.GeneratorException);
        Assert.Single(run.GeneratedSources);
        DiagnosticAssert.None(run);
    }

    [Theory]
    [InlineData(nameof(ModelSources.MnistCnn))]
    [InlineData(nameof(ModelSources.TinyClassifier))]
    [InlineData(nameof(ModelSources.SeedRnn))]
    [InlineData(nameof(ModelSources.TinySeq2Seq))]
    public void Generated_code_needs_no_implicit_usings(string model)
    {
        // A project with <ImplicitUsings>disable</ImplicitUsings>: every name the output uses must be spelled in full.
        GeneratorRun run = GeneratorHarness.Run(HarnessOptions.Default with { ImplicitUsings = false }, Source(model));

        Assert.Single(run.GeneratedSources);
        DiagnosticAssert.None(run);
    }

    [Theory]
    [InlineData(nameof(ModelSources.MnistCnn))]
    [InlineData(nameof(ModelSources.TinyClassifier))]
    [InlineData(nameof(ModelSources.SeedRnn))]
    [InlineData(nameof(ModelSources.TinySeq2Seq))]
    public void Generated_code_is_deterministic(string model)
    {
        // Two independent runs (fresh drivers, fresh compilations) must print byte-identical text.
        GeneratorRun first = GeneratorHarness.Run(TextOnly, Source(model));
        GeneratorRun second = GeneratorHarness.Run(TextOnly, Source(model));

        Assert.Equal(first.GeneratedSources.Keys, second.GeneratedSources.Keys);
        foreach ((string hint, string text) in first.GeneratedSources)
        {
            string other = second.GeneratedSources[hint];
            Assert.True(text == other,
                $"{hint} differs between two runs on the same input; first difference at character {FirstDifference(text, other)}:" +
                Environment.NewLine + SnapshotDiff.Unified(text, other, "first run", "second run"));
        }
    }

    [Fact]
    public void The_snapshotted_declaration_is_the_sample_itself()
    {
        // The MnistCnn snapshot claims to be what samples/Mnist users get; keep the test's copy in step with the sample.
        string sample = File.ReadAllText(Path.Combine(ModelSources.RepositoryRoot(), "samples", "Mnist", "MnistCnn.cs"));

        Assert.Equal(Snapshot.Normalize(sample), Snapshot.Normalize(ModelSources.MnistCnn));
    }

    private static string Source(string model) => model switch
    {
        nameof(ModelSources.MnistCnn) => ModelSources.MnistCnn,
        nameof(ModelSources.TinyClassifier) => ModelSources.TinyClassifier,
        nameof(ModelSources.SeedRnn) => ModelSources.SeedRnn,
        nameof(ModelSources.TinyGru) => ModelSources.TinyGru,
        nameof(ModelSources.TinySeq2Seq) => ModelSources.TinySeq2Seq,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary><see cref="Snapshot.Match"/>, with the command that accepts an intended change in front of the diff.</summary>
    private static void MatchSnapshot(string actual, string name)
    {
        try
        {
            Snapshot.Match(actual, name);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException(
                $"The generated code of '{name}' does not match its verified snapshot. If the change is intended (kernel tuning changes it on purpose), accept it with{Environment.NewLine}" +
                $"    {Snapshot.AcceptVariable}=1 dotnet test tests/GraphCompiler.Generators.Tests --filter FullyQualifiedName~SnapshotTests{Environment.NewLine}" +
                $"then review and commit: git diff tests/GraphCompiler.Generators.Tests/Snapshots{Environment.NewLine}{Environment.NewLine}" +
                e.Message);
        }
    }

    private static int FirstDifference(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            if (a[i] != b[i]) return i;
        }
        return n;
    }
}
