using System.Collections.Immutable;
using System.Reflection;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// One test (at least) per diagnostic ID: the ID, its exact location (the marked span) and that nothing else
/// is reported, compiler warnings included, since users build with warnings as errors. Test names start with
/// the ID they cover; <see cref="Every_diagnostic_has_a_test"/> keeps it that way.
/// </summary>
public class DiagnosticTests
{
    // ---- GC0001: shape mismatch -------------------------------------------------------------------------------

    [Fact]
    public void GC0001_seed_cnn_with_fc1_sized_for_32x32_inputs()
    {
        // The seed's own mistake: nn.Linear(64 * 5 * 5, 128) after a 28x28 input, which gives 64 x 7 x 7.
        var source = TestSource.Parse(ModelSources.MnistCnn.Replace(
            "[Linear(64 * 7 * 7, 128)]                 readonly Layer fc1;",
            "[[|Linear(64 * 5 * 5, 128)|]]                 readonly Layer fc1;", StringComparison.Ordinal));
        Assert.NotEqual(ModelSources.MnistCnn, source.Text);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains("3136", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("1600", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_messages_name_the_fix()
    {
        var source = TestSource.Parse(ModelSources.MnistCnn.Replace(
            "[Linear(64 * 7 * 7, 128)]", "[[|Linear(64 * 5 * 5, 128)|]]", StringComparison.Ordinal));

        string message = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001").GetMessage();

        Assert.Contains("declare [Linear(3136, 128)]", message, StringComparison.Ordinal);
        Assert.Contains("fc1", message, StringComparison.Ordinal);
        Assert.Contains("[64, 7, 7]", message, StringComparison.Ordinal); // where the 3136 comes from
    }

    [Fact]
    public void GC0001_conv2d_in_channels_differ_from_what_arrives()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Convs
            {
                [Conv2d(1, 8, Kernel = 3)]      readonly Layer conv1;
                [[|Conv2d(4, 16, Kernel = 3)|]] readonly Layer conv2;

                [Forward]
                Tensor Forward([Shape(1, 12, 12)] Tensor x) => Flatten(conv2(Relu(conv1(x))));
            }
            """);

        string message = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001").GetMessage();

        Assert.Contains("conv2", message, StringComparison.Ordinal);
        Assert.Contains("declare [Conv2d(8, 16", message, StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_reshape_to_a_different_number_of_elements()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Reshaped
            {
                [Linear(100, 10)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(1, 28, 28)] Tensor x) => fc([|Reshape(x, -1, 100)|]);
            }
            """);

        string message = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001").GetMessage();

        Assert.Contains("784", message, StringComparison.Ordinal);
        Assert.Contains("Reshape(x, -1, 784)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_linear_on_an_image_asks_for_a_flatten()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class NoFlatten
            {
                [Linear(784, 10)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(1, 28, 28)] Tensor x) => [|fc(x)|];
            }
            """);

        string message = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001").GetMessage();

        Assert.Contains("Flatten(x)", message, StringComparison.Ordinal);
    }

    // ---- GC0002: not a constant ---------------------------------------------------------------------------

    [Fact]
    public void GC0002_softmax_dim_from_a_static_field()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class DimField
            {
                static int Dim = -1;

                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => Softmax(fc(x), [|Dim|]);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");

        Assert.Contains("'Dim'", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("const", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0002_reshape_dims_from_a_static_field()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class DimFromField
            {
                static readonly int Features = 20;

                [Linear(20, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(4, 5)] Tensor x) => fc(Reshape(x, -1, [|Features|]));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");

        Assert.Contains("'Features'", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0003: unsupported construct -------------------------------------------------------------------

    [Fact]
    public void GC0003_if_statement()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Branchy
            {
                const bool Deep = true;

                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x)
                {
                    [|if (Deep) x = Relu(x);|]
                    return fc(x);
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("not supported in a forward method", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_call_of_an_unknown_method()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Helper
            {
                [Linear(8, 4)] readonly Layer fc;

                static Tensor Normalize(Tensor t) => t;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc([|Normalize(x)|]);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("'Normalize'", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Relu", d.GetMessage(), StringComparison.Ordinal); // lists what can be called instead
    }

    [Fact]
    public void GC0003_call_of_a_member_without_a_layer_attribute()
    {
        // The field is not a layer, so the compiler's own warnings that nothing assigns it stay: they are true.
        var source = TestSource.Model("""
            [Model]
            public partial class Forgotten
            {
                [Linear(8, 4)] readonly Layer fc;
                readonly Layer {|CS0649:{|CS8618:extra|}|};

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc({|GC0003:extra(x)|});
            }
            """);

        ImmutableArray<Diagnostic> found = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source);

        string message = found.Single(d => d.Id == "GC0003").GetMessage();
        Assert.Contains("'extra' has no layer attribute", message, StringComparison.Ordinal);
    }

    // ---- GC0004: input without a shape --------------------------------------------------------------------

    [Fact]
    public void GC0004_forward_input_without_shape()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Shapeless
            {
                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward(Tensor [|x|]) => fc(x);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0004");

        Assert.Contains("[Shape(", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0005: unused layer (a warning; the model still compiles) ---------------------------------------

    [Fact]
    public void GC0005_unused_layer_is_a_warning_and_the_model_is_still_generated()
    {
        var source = TestSource.Model("""
            namespace App;

            [Model]
            public partial class Spare
            {
                [Linear(8, 4)]    readonly Layer fc;
                [[|Linear(4, 2)|]] readonly Layer unused;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Diagnostic d = DiagnosticAssert.Single(run, source, "GC0005");

        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Contains("'unused'", d.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["App.Spare.g.cs"], run.GeneratedSources.Keys);
    }

    // ---- GC0006: forward method count ---------------------------------------------------------------------

    [Fact]
    public void GC0006_no_forward_method()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class [|Headless|]
            {
                [Linear(8, 4)] readonly Layer fc;
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0006");

        Assert.Contains("has no [Forward] method", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0006_two_forward_methods_reported_at_the_second()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class TwoHeads
            {
                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);

                [Forward]
                Tensor [|Other|]([Shape(8)] Tensor x) => Relu(fc(x));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0006");

        Assert.Contains("has 2 [Forward] methods", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0007: class shape -------------------------------------------------------------------------------

    [Fact]
    public void GC0007_model_class_not_partial()
    {
        var source = TestSource.Model("""
            [Model]
            public class [|Whole|]
            {
                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0007");

        Assert.Contains("partial class Whole", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0007_model_class_nested_in_another()
    {
        var source = TestSource.Model("""
            public partial class Outer
            {
                [Model]
                public partial class [|Inner|]
                {
                    [Linear(8, 4)] readonly Layer fc;

                    [Forward]
                    Tensor Forward([Shape(8)] Tensor x) => fc(x);
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0007");

        Assert.Contains("namespace level", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0008: hyperparameters ----------------------------------------------------------------------------

    [Fact]
    public void GC0008_conv2d_without_kernel()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class NoKernel
            {
                [[|Conv2d(1, 8)|]] readonly Layer conv;

                [Forward]
                Tensor Forward([Shape(1, 8, 8)] Tensor x) => Flatten(conv(x));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("[Conv2d(1, 8, Kernel = 3)]", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_conv2d_negative_padding()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class NegativePadding
            {
                [[|Conv2d(1, 8, Kernel = 3, Padding = -1)|]] readonly Layer conv;

                [Forward]
                Tensor Forward([Shape(1, 8, 8)] Tensor x) => Flatten(conv(x));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("Padding", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("-1", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_pool_padding_above_half_the_kernel()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class WidePoolPadding
            {
                [Conv2d(1, 4, Kernel = 3)]             readonly Layer conv;
                [[|MaxPool2d(2, Padding = 2)|]]        readonly Layer pool;

                [Forward]
                Tensor Forward([Shape(1, 8, 8)] Tensor x) => Flatten(pool(conv(x)));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("half the kernel", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0009: unknown variable ---------------------------------------------------------------------------

    [Fact]
    public void GC0009_tensor_that_is_not_an_input_or_local_of_the_forward_method()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class OutsideTensor
            {
                static readonly Tensor Offset = null!;

                [Linear(8, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => fc(x) + [|Offset|];
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0009");

        Assert.Contains("'Offset'", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- recurrent layers and indexing ------------------------------------------------------------------------

    [Fact]
    public void GC0001_lstm_declared_with_another_input_size()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class LstmSize
            {
                [[|Lstm(4, 8, NumLayers = 2)|]] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var (output, _) = lstm(x);
                    return output[.., ^1];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("declare [Lstm(5, 8, NumLayers = 2)]", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_gru_given_a_flat_input()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class GruFlat
            {
                [Gru(5, 8)] readonly GruLayer gru;

                [Forward]
                Tensor Forward([Shape(30)] Tensor x)
                {
                    var (output, _) = [|gru(x)|];
                    return output[.., ^1];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("Reshape(x, -1, 6, 5)", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_lstm_initial_state_of_the_wrong_shape()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class LstmState
            {
                [Linear(30, 8)] readonly Layer init;
                [Lstm(5, 8, NumLayers = 2)] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var h0 = Reshape(init(Flatten(x)), -1, 1, 8);
                    var (output, _) = [|lstm(x, (h0, h0))|];
                    return output[.., ^1];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("must be [2, 8] per sample", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_lstm_with_batch_first_false()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class SequenceFirst
            {
                [[|Lstm(5, 8, BatchFirst = false)|]] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var (output, _) = lstm(x);
                    return output[.., ^1];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("BatchFirst = true", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_lstm_member_declared_as_a_plain_layer()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class WrongMember
            {
                [{|GC0008:Lstm(5, 8)|}] readonly Layer lstm;
                [Linear(8, 2)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x) => fc({|GC0003:lstm(x)|});
            }
            """);

        ImmutableArray<Diagnostic> found = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source);

        Assert.Contains("change its type from Layer to LstmLayer", found[0].GetMessage(), StringComparison.Ordinal);
        Assert.Contains("var (output, (hn, cn)) = lstm(x)", found[1].GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_deconstruction_of_a_plain_tuple_while_recurrent_results_deconstruct()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class GruParts
            {
                [Gru(5, 8)] readonly GruLayer gru;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var (output, hn) = gru(x);
                    return output[.., ^1] + Select(hn, 1, 0);
                }
            }
            """);

        DiagnosticAssert.None(GeneratorHarness.Run(source));

        var wrong = TestSource.Model("""
            [Model]
            public partial class LstmParts
            {
                [Lstm(5, 8)] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    (Tensor output, (Tensor hn, Tensor cn)) = lstm(x);
                    [|var (a, b) = (output, hn)|];
                    return a[.., ^1] + b[.., 0] + cn[.., 0];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(wrong), wrong, "GC0003");

        Assert.Contains("Deconstruction reads the result of a recurrent layer", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0002_index_that_is_not_a_constant()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class IndexField
            {
                static int Step = 2;

                [Lstm(5, 8)] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var (output, _) = lstm(x);
                    return output[.., [|Step|]];
                }
            }
            """);

        DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");
    }

    [Fact]
    public void GC0001_index_out_of_range()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class IndexRange
            {
                [Lstm(5, 8)] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(6, 5)] Tensor x)
                {
                    var (output, _) = lstm(x);
                    return [|output[.., ^7]|];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("valid: -6 to 5", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0010_select_of_an_image()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class SelectImage
            {
                [Conv2d(1, 4, Kernel = 3)] readonly Layer conv;

                [Forward]
                Tensor Forward([Shape(1, 8, 8)] Tensor x) => [|Select(conv(x), 1, 0)|];
            }
            """);

        DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0010");
    }

    [Fact]
    public void GC0008_layers_too_large_for_one_model()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Huge
            {
                [[|Linear(784, 2000000000)|]] readonly Layer fc;
                [[|Lstm(5, 100000, NumLayers = 100000)|]] readonly LstmLayer lstm;

                [Forward]
                Tensor Forward([Shape(784)] Tensor x)
                {
                    var (output, _) = lstm(Reshape(fc(x), -1, 5, 400000000));
                    return output[.., ^1];
                }
            }
            """);

        ImmutableArray<Diagnostic> found = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source, "GC0008");

        Assert.All(found, d => Assert.Contains("too large for one model", d.GetMessage(), StringComparison.Ordinal));
    }

    [Fact]
    public void GC0010_a_result_too_large_for_one_model()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class Wide
            {
                [Conv2d(1, 65536, Kernel = 1)] readonly Layer conv;

                [Forward]
                Tensor Forward([Shape(1, 100, 100)] Tensor x) => Flatten([|conv(x)|]);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0010");

        Assert.Contains("655360000 elements per sample", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0010: unsupported shape --------------------------------------------------------------------------

    [Fact]
    public void GC0010_softmax_over_a_dimension_that_is_not_the_last()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class SoftmaxDim
            {
                [Linear(8, 10)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => [|Softmax(Reshape(fc(x), -1, 2, 5), 1)|];
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0010");

        Assert.Contains("dim: -1 or 2", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0010_softmax_of_an_image()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class SoftmaxImage
            {
                [Conv2d(1, 4, Kernel = 3)] readonly Layer conv;

                [Forward]
                Tensor Forward([Shape(1, 8, 8)] Tensor x) => [|Softmax(conv(x))|];
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0010");

        Assert.Contains("[4, 6, 6]", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Flatten", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- GC0011: unsafe code off ------------------------------------------------------------------------------

    [Fact]
    public void GC0011_project_without_AllowUnsafeBlocks()
    {
        var source = TestSource.Parse(ModelSources.TinyClassifier.Replace(
            "public partial class TinyClassifier", "public partial class [|TinyClassifier|]", StringComparison.Ordinal));
        GeneratorRun safeOnly = GeneratorHarness.Run(source)
            .Rerun(c => c.WithOptions(c.Options.WithAllowUnsafe(false)));

        Diagnostic d = DiagnosticAssert.Single(safeOnly, source, "GC0011");

        Assert.Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", d.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(safeOnly.GeneratedSources);
    }

    // ---- Across IDs -------------------------------------------------------------------------------------------

    [Fact]
    public void Every_diagnostic_has_a_test()
    {
        // GC9999 is the generator's own failure: it has no input that should produce it.
        string[] tested = [.. typeof(DiagnosticTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
            .Select(m => m.Name.Split('_')[0])
            .Where(p => p.StartsWith("GC", StringComparison.Ordinal))
            .Distinct()];

        string[] ids = [.. DiagnosticDescriptors.All.Select(d => d.Id).Where(id => id != "GC9999").Order(StringComparer.Ordinal)];
        Assert.Equal(ids, tested.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Descriptors_have_stable_ids_titles_and_severities()
    {
        DiagnosticDescriptor[] all = [.. DiagnosticDescriptors.All.OrderBy(d => d.Id, StringComparer.Ordinal)];

        Assert.Equal(
            ["GC0001", "GC0002", "GC0003", "GC0004", "GC0005", "GC0006", "GC0007", "GC0008", "GC0009", "GC0010", "GC0011", "GC9999"],
            all.Select(d => d.Id));
        Assert.All(all, d =>
        {
            Assert.Equal("GraphCompiler", d.Category);
            Assert.True(d.IsEnabledByDefault, d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.Title.ToString()), d.Id);
            Assert.Equal(d.Id == "GC0005" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, d.DefaultSeverity);
        });
    }
}
