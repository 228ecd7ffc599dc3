using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>Declarations at the edges: constants in the forward method, doubled attributes, static classes, name clashes, own constructors.</summary>
public class DeclarationEdgeCaseTests
{
    [Fact]
    public void Const_int_local_in_the_forward_method_is_accepted()
    {
        // GC0002's own message says "use a literal or a const"; a local const is then reported as GC0003 on '20'.
        var source = TestSource.Model("""
            [Model]
            public partial class ConstLocal
            {
                [Linear(20, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(4, 5)] Tensor x)
                {
                    const int features = 20;
                    return fc(Reshape(x, -1, features));
                }
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        DiagnosticAssert.None(run);
        Assert.Single(run.GeneratedSources);
    }

    /// <summary>
    /// A type mistake the compiler already reports in the forward method: the compiler's error alone, once (the
    /// generator's own error at the same place is not shown, though it still stops generation).
    /// </summary>
    [Theory]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) => fc(x, 3);", "CS1593")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) => Relu(5);", "CS1503")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) => fc(Undefined(x));", "CS0103")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) => fc(x) + 1.5f;", "CS0019")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) => fc(y);", "CS0103")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) { var y = fc(x); return y.Foo; }", "CS1061")]
    [InlineData("Tensor Forward([Shape(4)] Tensor x) { int y = x; return fc(x); }", "CS0029")]
    public void Compiler_errors_in_the_forward_method_are_reported_once(string forward, string compilerError)
    {
        var source = TestSource.Model($$"""
            [Model]
            public partial class Mistaken
            {
                [Linear(4, 2)] readonly Layer fc;

                [Forward]
                {{forward}}
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Diagnostic error = Assert.Single(run.CompilationDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(compilerError, error.Id);
    }

    [Fact]
    public void GC0002_reshape_dims_from_a_local_variable()
    {
        // Only the use is wrong (not a constant); today the int local's initializer also gets GC0003 ('20' is not supported).
        var source = TestSource.Model("""
            [Model]
            public partial class DimLocal
            {
                [Linear(20, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(4, 5)] Tensor x)
                {
                    int features = 20;
                    return fc(Reshape(x, -1, [|features|]));
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");
        Assert.Contains("'features'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_layer_attributes_on_one_member_are_a_user_error_not_an_internal_error()
    {
        // Valid C# (two different attribute types); today: GC9999 "An item with the same key has already been added. Key: fc".
        var source = TestSource.Model("""
            [Model]
            public partial class TwoKinds
            {
                [Linear(8, 4)][Conv2d(1, 2, Kernel = 3)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "GC9999");
        Diagnostic error = Assert.Single(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Contains("fc", error.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicated_layer_attribute_is_left_to_the_compiler()
    {
        // CS0579 says it all; today GC9999 (internal error) is reported beside it.
        var source = TestSource.Model("""
            [Model]
            public partial class Twice
            {
                [Linear(8, 4)][{|CS0579:Linear|}(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);

        DiagnosticAssert.Reports(GeneratorHarness.Run(source), source);
    }

    [Fact]
    public void A_static_model_class_is_reported_instead_of_generating_code_that_does_not_compile()
    {
        // Before GC0007 covered it, the generated code failed with CS0714 / CS0708 (instance members in a static class).
        var source = TestSource.Model("""
            [Model]
            public static partial class [|Static|]
            {
                [Linear(8, 4)] static readonly Layer fc;

                [Forward]
                static Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);

        DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0007");
    }

    [Fact]
    public void A_member_named_like_a_generated_member_is_reported_instead_of_generating_code_that_does_not_compile()
    {
        // Before GC0007 covered it: CS0102 "already contains a definition for 'InputSize'" and CS0229 ambiguities inside the generated file.
        var source = TestSource.Model("""
            [Model]
            public partial class Clash
            {
                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);

                public int InputSize => 3;
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true);
        Assert.Contains(run.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error && d.GetMessage().Contains("InputSize", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_with_its_own_constructor_does_not_break_a_warnings_as_errors_build()
    {
        // Before GC0007 covered it: four CS8618 warnings at the user's constructor (fc, __parameters, __arena, __gradients), and an object
        // made with that constructor has no parameters or arena (Forward throws NullReferenceException). Either a
        // GC diagnostic at the constructor that says what to do, or nothing at all, would do.
        var source = TestSource.Model("""
            [Model]
            public partial class OwnCtor
            {
                public OwnCtor() { }

                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.DoesNotContain(run.CompilationDiagnostics, d => d.Id == "CS8618");
    }

}
