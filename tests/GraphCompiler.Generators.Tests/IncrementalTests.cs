using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// The incremental cache: the IDE runs the generator on every keystroke, so an edit that does not touch a
/// model must not parse, plan or print it again. The spec (<c>ModelGenerator.Steps.Models</c>) is the cache
/// boundary; these tests check that it compares equal across unrelated edits and differs after a real one.
/// </summary>
public class IncrementalTests
{
    private const string Models = ModelGenerator.Steps.Models;
    private const string UnsafeAllowed = ModelGenerator.Steps.UnsafeAllowed;
    private const string Modules = ModelGenerator.Steps.Modules;

    /// <summary>These tests read tracked steps and generated text; compiling the output is checked elsewhere.</summary>
    private static readonly HarnessOptions StepsOnly = HarnessOptions.Default with { CompileOutput = false };

    [Fact]
    public void Running_again_on_the_same_compilation_reuses_everything()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.MnistCnn, ModelSources.Unrelated);

        GeneratorRun second = first.Rerun();

        IncrementalAssert.StepReasons(second, Models, IncrementalStepRunReason.Cached);
        IncrementalAssert.CachedOrUnchanged(second, UnsafeAllowed);
        IncrementalAssert.OutputsCachedOrUnchanged(second);
    }

    [Fact]
    public void Adding_a_file_with_an_unrelated_class_reuses_the_spec_and_the_output()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.MnistCnn, ModelSources.Unrelated);

        GeneratorRun second = first.RerunWithAddedSource("""
            namespace App.Billing;

            public sealed record Invoice(string Customer, decimal Amount)
            {
                public decimal WithTax(decimal rate) => Amount * (1 + rate);
            }
            """);

        IncrementalAssert.CachedOrUnchanged(second, Models, UnsafeAllowed);
        IncrementalAssert.OutputsCachedOrUnchanged(second);
        Assert.Equal(first.GeneratedSources, second.GeneratedSources);
    }

    [Fact]
    public void Editing_an_unrelated_method_in_another_file_reuses_the_spec_and_the_output()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.MnistCnn, ModelSources.Unrelated);

        GeneratorRun second = first.RerunWithReplacedSource(1, ModelSources.Unrelated.Replace(
            "\"Hello, \" + name", "$\"Good morning, {name}!\"", StringComparison.Ordinal));

        Assert.Contains("Good morning", second.SourceTrees[1].ToString(), StringComparison.Ordinal);
        IncrementalAssert.CachedOrUnchanged(second, Models, UnsafeAllowed);
        IncrementalAssert.OutputsCachedOrUnchanged(second);
        Assert.Equal(first.GeneratedSources, second.GeneratedSources);
    }

    [Fact]
    public void Editing_the_model_regenerates_it()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.MnistCnn, ModelSources.Unrelated);
        string edited = ModelSources.MnistCnn.Replace("[Linear(128, 10)]", "[Linear(128, 11)]", StringComparison.Ordinal);
        Assert.NotEqual(ModelSources.MnistCnn, edited);

        GeneratorRun second = first.RerunWithReplacedSource(0, edited);

        IncrementalAssert.StepReasons(second, Models, IncrementalStepRunReason.Modified);
        Assert.Contains(IncrementalStepRunReason.Modified, second.OutputReasons());
        string before = first.Source("Mnist.MnistCnn.g.cs"), after = second.Source("Mnist.MnistCnn.g.cs");
        Assert.Contains("public const int OutputSize = 10;", before, StringComparison.Ordinal);
        Assert.Contains("public const int OutputSize = 11;", after, StringComparison.Ordinal);
        Assert.Empty(second.GeneratorDiagnostics);
    }

    /// <summary>A [Module] in a file of its own, for the tests of edits that reach a model only through its modules.</summary>
    private const string FeedForwardModule = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace App;

        [Module]
        public class FeedForward
        {
            [Linear(8, 16)] readonly Layer linear1;
            [Linear(16, 8)] readonly Layer linear2;

            [Forward]
            public Tensor Forward(Tensor x) => linear2(Gelu(linear1(x)));
        }

        """;

    /// <summary>The model that holds <see cref="FeedForwardModule"/>.</summary>
    private const string TaggerModel = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace App;

        [Model]
        public partial class Tagger
        {
            readonly FeedForward ff;
            [Linear(8, 3)] readonly Layer head;

            [Forward]
            Tensor Forward([Shape(8)] Tensor x) => head(ff.Forward(x));
        }

        """;

    [Fact]
    public void Editing_a_module_in_another_file_regenerates_the_model_that_holds_it()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, TaggerModel, FeedForwardModule, ModelSources.Unrelated);
        string edited = FeedForwardModule
            .Replace("[Linear(8, 16)]", "[Linear(8, 24)]", StringComparison.Ordinal)
            .Replace("[Linear(16, 8)]", "[Linear(24, 8)]", StringComparison.Ordinal);
        Assert.NotEqual(FeedForwardModule, edited);

        GeneratorRun second = first.RerunWithReplacedSource(1, edited);

        // The model's own declaration did not change; what it compiles to did.
        IncrementalAssert.CachedOrUnchanged(second, Models);
        IncrementalAssert.StepReasons(second, Modules, IncrementalStepRunReason.Modified);
        Assert.Contains(IncrementalStepRunReason.Modified, second.OutputReasons());
        string before = first.Source("App.Tagger.g.cs"), after = second.Source("App.Tagger.g.cs");
        Assert.Contains("new(\"ff.linear1.weight\", new[] { 16, 8 }", before, StringComparison.Ordinal);
        Assert.Contains("new(\"ff.linear1.weight\", new[] { 24, 8 }", after, StringComparison.Ordinal);
        Assert.Empty(second.GeneratorDiagnostics);
    }

    [Fact]
    public void Editing_a_module_forward_method_regenerates_the_model()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, TaggerModel, FeedForwardModule);
        string edited = FeedForwardModule.Replace("linear2(Gelu(linear1(x)))", "linear2(Relu(linear1(x)))", StringComparison.Ordinal);
        Assert.NotEqual(FeedForwardModule, edited);

        GeneratorRun second = first.RerunWithReplacedSource(1, edited);

        IncrementalAssert.StepReasons(second, Modules, IncrementalStepRunReason.Modified);
        string before = first.Source("App.Tagger.g.cs"), after = second.Source("App.Tagger.g.cs");
        Assert.Contains("new(\"Gelu\"", before, StringComparison.Ordinal);
        Assert.DoesNotContain("new(\"Relu\"", before, StringComparison.Ordinal);
        Assert.Contains("new(\"Relu\"", after, StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_an_unrelated_file_reuses_the_model_and_module_specs_and_the_output()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.TinySeq2Seq, ModelSources.Unrelated);

        GeneratorRun second = first.RerunWithReplacedSource(1, ModelSources.Unrelated.Replace(
            "\"Hello, \" + name", "$\"Good morning, {name}!\"", StringComparison.Ordinal));

        Assert.Contains("Good morning", second.SourceTrees[1].ToString(), StringComparison.Ordinal);
        Assert.Single(first.StepOutputs(Modules)); // all modules, collected into one value
        IncrementalAssert.CachedOrUnchanged(second, Models, Modules, UnsafeAllowed);
        IncrementalAssert.OutputsCachedOrUnchanged(second);
        Assert.Equal(first.GeneratedSources, second.GeneratedSources);
    }

    [Fact]
    public void The_specs_of_modules_hold_no_roslyn_objects()
    {
        GeneratorRun run = GeneratorHarness.Run(StepsOnly, ModelSources.TinySeq2Seq, ModelSources.Unrelated);

        Assert.Single(run.StepOutputs(Modules));
        SpecPurity.AssertStepOutputsPure(run, Models, Modules);
    }

    [Fact]
    public void Turning_unsafe_code_off_reuses_the_spec_and_reports_instead_of_generating()
    {
        GeneratorRun first = GeneratorHarness.Run(StepsOnly, ModelSources.TinyClassifier);

        GeneratorRun second = first.Rerun(c => c.WithOptions(c.Options.WithAllowUnsafe(false)));

        IncrementalAssert.CachedOrUnchanged(second, Models);
        IncrementalAssert.StepReasons(second, UnsafeAllowed, IncrementalStepRunReason.Modified);
        Assert.Empty(second.GeneratedSources);
        Assert.Equal(["GC0011"], second.GeneratorDiagnostics.Select(d => d.Id));
    }

    [Fact]
    public void The_spec_of_a_compiling_model_holds_no_roslyn_objects()
    {
        GeneratorRun run = GeneratorHarness.Run(StepsOnly, ModelSources.MnistCnn, ModelSources.Unrelated);

        Assert.Single(run.StepOutputs(Models));
        SpecPurity.AssertStepOutputsPure(run, Models);
    }

    [Fact]
    public void The_spec_of_a_model_with_diagnostics_holds_no_roslyn_objects()
    {
        // Diagnostics found while parsing travel in the spec; their locations must be plain data too.
        GeneratorRun run = GeneratorHarness.Run(StepsOnly,
            ModelSources.MnistCnn.Replace("[Linear(64 * 7 * 7, 128)]", "[Linear(64 * 5 * 5, 128)]", StringComparison.Ordinal),
            TestSource.ModelUsings + """
                [Model]
                public class NotPartial
                {
                    [Conv2d(1, 8)] readonly Layer conv;

                    [Forward]
                    Tensor Forward(Tensor x) => Flatten(conv(Relu(x)) + Unknown(x));

                    static Tensor Unknown(Tensor t) => t;
                }
                """);

        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "GC0007");
        Assert.Equal(2, run.StepOutputs(Models).Length);
        SpecPurity.AssertStepOutputsPure(run, Models);
    }
}
