using System.Collections.Immutable;
using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Xunit;
using Xunit.Sdk;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// Tests of the test infrastructure itself, independent of what the generator emits, so that a red
/// generator test can be trusted to be about the generator.
/// </summary>
public class HarnessTests
{
    // ---- TestSource markers ------------------------------------------------------------------------------

    [Fact]
    public void Markers_are_removed_and_their_spans_recorded()
    {
        var source = TestSource.Parse("class [|C|] { int {|CS0169:x|}; }");

        Assert.Equal("class C { int x; }", source.Text);
        // ToArray: ImmutableArray's own Equals compares references, not elements.
        Assert.Equal([new MarkedSpan(new TextSpan(6, 1), null), new MarkedSpan(new TextSpan(14, 1), "CS0169")], source.Spans.ToArray());
        Assert.Equal("x", source[source.Spans[1].Span]);
    }

    [Fact]
    public void Markers_nest_and_line_endings_are_normalized()
    {
        var source = TestSource.Parse("a\r\n[|b {|GC0001:c|} d|]\r\n");

        Assert.Equal("a\nb c d\n", source.Text);
        Assert.Equal("b c d", source[source.Spans[0].Span]);
        Assert.Equal(("c", "GC0001"), (source[source.Spans[1].Span], source.Spans[1].Id));
    }

    [Theory]
    [InlineData("class [|C { }")]
    [InlineData("class C|] { }")]
    [InlineData("class [|C|} { }")]
    [InlineData("class {|GC 1:C|} { }")]
    public void Unbalanced_markers_are_rejected(string text) =>
        Assert.Throws<FormatException>(() => TestSource.Parse(text));

    [Fact]
    public void Model_source_starts_with_the_usings() =>
        Assert.StartsWith("using GraphCompiler;\nusing static GraphCompiler.Ops;\n", TestSource.Model("class C { }").Text);

    // ---- Snapshots -------------------------------------------------------------------------------------

    [Fact]
    public void Diff_shows_the_changed_lines_with_context()
    {
        string diff = SnapshotDiff.Unified("a\nb\nc\nd\ne\n", "a\nb\nX\nd\ne\n", "old.cs", "new.cs");

        Assert.Contains("--- old.cs", diff);
        Assert.Contains("+++ new.cs", diff);
        Assert.Contains("@@", diff);
        Assert.Contains("\n-c\n+X\n", diff.Replace("\r\n", "\n"));
        Assert.Contains(" b", diff); // context line
    }

    [Fact]
    public void Diff_is_cut_after_the_limit()
    {
        string expected = string.Join("\n", Enumerable.Range(0, 100).Select(i => $"line {i}"));
        string actual = string.Join("\n", Enumerable.Range(0, 100).Select(i => $"changed {i}"));

        string diff = SnapshotDiff.Unified(expected, actual, maxChangedLines: 60);

        string[] changeLines = [.. diff.Split('\n').Where(l => l.StartsWith("-line", StringComparison.Ordinal) || l.StartsWith("+changed", StringComparison.Ordinal))];
        Assert.Equal(60, changeLines.Length);
        Assert.EndsWith("... 140 more changed lines not shown", diff);
    }

    [Fact]
    public void Snapshot_lifecycle_missing_accept_match_mismatch()
    {
        string dir = Path.Combine(Path.GetTempPath(), "gc-snapshots-" + Guid.NewGuid().ToString("N"));
        try
        {
            string verified = Path.Combine(dir, "Model#Model.g.verified.cs");
            string received = Path.Combine(dir, "Model#Model.g.received.cs");

            // Missing: fails, says how to accept, leaves the output as a received file.
            var missing = Assert.ThrowsAny<XunitException>(() => Snapshot.MatchIn(dir, "class A { }\r\n", "Model#Model.g", accept: false));
            Assert.Contains(Snapshot.AcceptVariable + "=1", missing.Message);
            Assert.True(File.Exists(received));

            // Accepting writes the verified file with normalized line endings and removes the received one.
            Snapshot.MatchIn(dir, "class A { }\r\n", "Model#Model.g", accept: true);
            Assert.Equal("class A { }\n", File.ReadAllText(verified));
            Assert.False(File.Exists(received));

            // Same text with other line endings, or without the final newline, matches.
            Snapshot.MatchIn(dir, "class A { }\n", "Model#Model.g", accept: false);
            Snapshot.MatchIn(dir, "class A { }", "Model#Model.g", accept: false);

            // A change fails with a diff and writes the received file.
            var changed = Assert.ThrowsAny<XunitException>(() => Snapshot.MatchIn(dir, "class B { }\n", "Model#Model.g", accept: false));
            Assert.Contains("-class A { }", changed.Message);
            Assert.Contains("+class B { }", changed.Message);
            Assert.Equal("class B { }\n", File.ReadAllText(received));

            // Matching again clears the stale received file.
            Snapshot.MatchIn(dir, "class A { }", "Model#Model.g", accept: false);
            Assert.False(File.Exists(received));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- Spec purity -------------------------------------------------------------------------------------

    private sealed record FakeSpec(string Name, ImmutableArray<FakeLayer> Layers, FakeSpec? Parent = null);

    private sealed record FakeLayer(string Name, int[] Shape, object? Payload);

    private sealed class Cycle
    {
        public Cycle? Next { get; set; }
    }

    [Fact]
    public void Purity_finds_a_symbol_planted_in_a_nested_record()
    {
        ISymbol symbol = GeneratorHarness.Run("class Planted { }").InputCompilation.GetTypeByMetadataName("Planted")!;
        var spec = new FakeSpec("m", [new FakeLayer("conv1", [1, 2], null), new FakeLayer("fc1", [3], symbol)]);

        string finding = Assert.Single(SpecPurity.FindRoslynObjects(spec));
        Assert.StartsWith("root.Layers[1].Payload: ISymbol (", finding);
        Assert.EndsWith("'Planted'", finding);
        var e = Assert.ThrowsAny<XunitException>(() => SpecPurity.AssertNoRoslynObjects(spec));
        Assert.Contains("root.Layers[1].Payload", e.Message);
    }

    [Fact]
    public void Purity_finds_locations_trees_and_compilations()
    {
        GeneratorRun run = GeneratorHarness.Run("class C { }");
        SyntaxTree tree = run.SourceTrees[0];
        var spec = new FakeSpec("m",
            [new FakeLayer("a", [], Location.Create(tree, new TextSpan(0, 5))), new FakeLayer("b", [], tree), new FakeLayer("c", [], run.InputCompilation)],
            Parent: new FakeSpec("p", [new FakeLayer("d", [], tree.GetRoot())]));

        Assert.Equal(
            ["root.Layers[0].Payload: Location", "root.Layers[1].Payload: SyntaxTree", "root.Layers[2].Payload: Compilation", "root.Parent.Layers[0].Payload: SyntaxNode"],
            SpecPurity.FindRoslynObjects(spec).Select(p => p[..p.IndexOf(" (", StringComparison.Ordinal)]));
    }

    [Fact]
    public void Purity_accepts_plain_data_cycles_and_default_arrays()
    {
        var cycle = new Cycle();
        cycle.Next = cycle;
        var spec = new FakeSpec("m", [new FakeLayer("a", [1], new TextSpan(1, 2)), new FakeLayer("b", [], cycle)],
            Parent: new FakeSpec("p", default));

        SpecPurity.AssertNoRoslynObjects(spec);
    }

    // ---- The harness -------------------------------------------------------------------------------------

    [Fact]
    public void Plain_class_compiles_clean_and_the_generator_runs()
    {
        GeneratorRun run = GeneratorHarness.Run("namespace App; public sealed class Plain { public int Value => 42; }");

        Assert.Single(run.RunResult.Results);
        Assert.Null(run.GeneratorException);
        Assert.Equal(typeof(ModelGenerator), run.Result.Generator.GetGeneratorType());
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        DiagnosticAssert.None(run);
    }

    [Fact]
    public void Compiler_warnings_are_reported_at_their_markers()
    {
        // CS8618 shows nullable is on; CS0169 that plain warnings are kept.
        var source = TestSource.Parse("""
            public class C
            {
                private int {|CS0169:unused|};
                public string {|CS8618:Name|} { get; set; }
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        ImmutableArray<Diagnostic> found = DiagnosticAssert.Reports(run, source);
        Assert.Equal(["CS0169", "CS8618"], found.Select(d => d.Id));
    }

    [Fact]
    public void Unexpected_and_missing_diagnostics_fail_with_both_listed()
    {
        var source = TestSource.Parse("public class C { private int unused; public int [|Ok|] => 1; }");
        GeneratorRun run = GeneratorHarness.Run(source);

        var e = Assert.ThrowsAny<XunitException>(() => DiagnosticAssert.Reports(run, source, "GC9999"));
        Assert.Contains("GC9999 at Source0.cs(1,49) on 'Ok'", e.Message);
        Assert.Contains("warning CS0169", e.Message);
        Assert.Contains("(at 'unused')", e.Message);
        Assert.ThrowsAny<XunitException>(() => DiagnosticAssert.None(run));
        DiagnosticAssert.None(run, ignoredIds: ["CS0169"]);
    }

    [Fact]
    public void Generator_diagnostics_match_markers_though_their_locations_have_no_tree()
    {
        // The generator rebuilds locations from plain data (Location.Create(path, span, lines)): external-file
        // locations whose SourceTree is null. They must still match the marked span of the source they point into.
        var source = TestSource.Model("[Model] public partial class [|Headless|] { }");
        GeneratorRun run = GeneratorHarness.Run(source);
        Diagnostic reported = Assert.Single(run.GeneratorDiagnostics);
        Assert.Null(reported.Location.SourceTree);

        Assert.Equal("GC0006", DiagnosticAssert.Single(run, source, "GC0006").Id);

        var moved = TestSource.Model("[Model] public partial class Headless [|{ }|]");
        var e = Assert.ThrowsAny<XunitException>(() => DiagnosticAssert.Single(GeneratorHarness.Run(moved), moved, "GC0006"));
        Assert.Contains("(at 'Headless')", e.Message); // the text under a tree-less location is still shown
    }

    [Fact]
    public void Unsafe_code_and_the_latest_language_compile()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            public static class U
            {
                public static unsafe float First(float* p) => p[0];
                public static int[] Items() => [1, 2, 3];
                public static int Sum(params System.ReadOnlySpan<int> values) => values.Length;
            }
            """);
        DiagnosticAssert.None(run);
    }

    [Fact]
    public void Implicit_usings_can_be_turned_off()
    {
        const string Source = "public class C { public List<int> Items { get; } = []; }";
        DiagnosticAssert.None(GeneratorHarness.Run(Source));
        Assert.Contains(GeneratorHarness.Run(HarnessOptions.Default with { ImplicitUsings = false }, Source).CompilationDiagnostics,
            d => d.Id == "CS0246");
    }

    [Fact]
    public void The_compiled_assembly_loads_and_shares_runtime_types()
    {
        GeneratorRun run = GeneratorHarness.Run("""
            namespace App;
            public sealed class Probe(int seed)
            {
                public int Next() => seed + 1;
                public System.Type Attribute => typeof(GraphCompiler.ModelAttribute);
            }
            """);

        using LoadedAssembly loaded = run.Load();
        dynamic probe = loaded.CreateInstance("App.Probe", 41);
        Assert.Equal(42, (int)probe.Next());
        Assert.Same(typeof(GraphCompiler.ModelAttribute), (Type)probe.Attribute); // not a second copy
        Assert.ThrowsAny<XunitException>(() => loaded.GetType("App.Missing"));
    }

    [Fact]
    public void A_compilation_with_errors_does_not_load()
    {
        GeneratorRun run = GeneratorHarness.Run("public class C { int M() => \"s\"; }");
        var e = Assert.ThrowsAny<XunitException>(() => run.Load());
        Assert.Contains("CS0029", e.Message);
    }

    [Fact]
    public void Reruns_keep_the_driver_and_expose_tracked_steps()
    {
        GeneratorRun first = GeneratorHarness.Run("public class A { }", "public class B { }");

        GeneratorRun same = first.Rerun();
        IncrementalAssert.OutputsCachedOrUnchanged(same);

        GeneratorRun replaced = first.RerunWithReplacedSource(1, "public class B { public int X; }");
        Assert.Equal("Source1.cs", replaced.SourceTrees[1].FilePath);
        Assert.Contains(replaced.InputCompilation.SyntaxTrees, t => t.ToString().Contains("int X", StringComparison.Ordinal));
        Assert.DoesNotContain(replaced.InputCompilation.SyntaxTrees, t => t.ToString() == "public class B { }");
        Assert.NotNull(replaced.InputCompilation.GetTypeByMetadataName("B")!.GetMembers("X").SingleOrDefault());

        GeneratorRun added = replaced.RerunWithAddedSource("public class C { }");
        Assert.Equal(3, added.SourceTrees.Length);
        Assert.Equal("Source2.cs", added.SourceTrees[2].FilePath);

        // Unknown step names fail with the list of tracked ones rather than an empty result.
        var e = Assert.ThrowsAny<XunitException>(() => added.StepReasons("NoSuchStep"));
        Assert.Contains("Tracked:", e.Message);
        Assert.NotNull(added.DescribeSteps());
    }

    [Fact]
    public void A_run_that_skips_compiling_its_output_cannot_vouch_for_diagnostics()
    {
        GeneratorRun run = GeneratorHarness.Run(HarnessOptions.Default with { CompileOutput = false }, "public class C { int M() => \"s\"; }");

        Assert.Empty(run.CompilationDiagnostics);
        Assert.Throws<ArgumentException>(() => DiagnosticAssert.None(run));
        Assert.ThrowsAny<XunitException>(() => run.Load()); // loading still compiles, and still fails on errors
    }

    [Fact]
    public void Global_options_are_accepted()
    {
        var options = HarnessOptions.Default with { GlobalOptions = ImmutableDictionary<string, string>.Empty.Add("build_property.RootNamespace", "App") };
        GeneratorRun run = GeneratorHarness.Run(options, "public class C { }");
        DiagnosticAssert.None(run);
    }
}
