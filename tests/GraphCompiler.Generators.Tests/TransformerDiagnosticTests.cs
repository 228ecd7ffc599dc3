using System.Collections.Immutable;
using GraphCompiler.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// The mistakes of Transformer declarations: module composition ([Module] members, [Repeat] arrays, unrolled
/// for loops), token inputs and padding masks, Embedding, LayerNorm, MultiheadAttention and Dropout. As in
/// <see cref="DiagnosticTests"/>: the ID, the exact marked span, a message that names the fix, and nothing else
/// reported (compiler warnings included). Test names start with the ID they cover.
/// </summary>
public class TransformerDiagnosticTests
{
    // ---- module composition ---------------------------------------------------------------------------------

    [Fact]
    public void GC0003_module_called_with_too_few_arguments()
    {
        var source = TestSource.Model("""
            [Module]
            public class Residual
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x, Tensor skip) => fc(x) + skip;
            }

            [Model]
            public partial class Caller
            {
                readonly Residual block;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => {|GC0003:block.{|CS7036:Forward|}(x)|};
            }
            """);

        // The compiler's own error names the missing parameter; the generator's says what the module takes.
        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("Residual.Forward takes 2 argument(s) (x, skip)", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("this call passes 1", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_mask_passed_where_the_module_takes_a_tensor()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;

                [Forward]
                public Tensor Forward(Tensor x, Mask padding) => self_attn(x, x, x, keyPaddingMask: padding);
            }

            [Model]
            public partial class MaskForTensor
            {
                const int Pad = 0;

                [Embedding(10, 8)] readonly EmbeddingLayer embed;
                readonly Block block;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src)
                {
                    var mask = src == Pad;
                    var x = embed(src);
                    return block.Forward({|CS1503:{|GC0003:mask|}|}, mask);
                }
            }
            """);

        // Mask and Tensor are distinct types, so the compiler reports the argument too.
        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("parameter 'x' of Block.Forward is a Tensor; a Mask is passed", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_tensor_passed_where_the_module_takes_a_mask()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;

                [Forward]
                public Tensor Forward(Tensor x, Mask padding) => self_attn(x, x, x, keyPaddingMask: padding);
            }

            [Model]
            public partial class TensorForMask
            {
                [Embedding(10, 8)] readonly EmbeddingLayer embed;
                readonly Block block;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src)
                {
                    var x = embed(src);
                    return block.Forward(x, {|CS1503:{|GC0003:x|}|});
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("parameter 'padding' of Block.Forward is a Mask; a Tensor is passed", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_array_of_modules_without_repeat()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class Uncounted
            {
                readonly Block[] [|layers|];

                [Forward]
                Tensor Forward([Shape(8)] Tensor x)
                {
                    for (int i = 0; i < 2; i++)
                    {
                        x = layers[i].Forward(x);
                    }

                    return x;
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("[Repeat(2)] readonly Block[] layers;", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_repeat_on_a_member_that_is_not_an_array()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class RepeatedOne
            {
                [Repeat(2)] readonly Block [|block|];

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => block.Forward(x);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("readonly Block[] block;", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_module_index_past_the_repeat_count()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class PastTheEnd
            {
                [Repeat(2)] readonly Block[] layers;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => layers[[|2|]].Forward(layers[0].Forward(x));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("'layers' holds 2 modules (indices 0 to 1); the index is 2", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0002_module_index_that_is_not_a_constant()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class PickedAtRunTime
            {
                static int Which = 1;

                [Repeat(2)] readonly Block[] layers;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => layers[[|Which|]].Forward(x);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");

        Assert.Contains("'Which'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0002_for_loop_bound_that_is_not_a_constant()
    {
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class RunTimeDepth
            {
                static int Depth = 2;

                [Repeat(2)] readonly Block[] layers;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x)
                {
                    for (int i = 0; i < [|Depth|]; i++)
                    {
                        x = layers[i].Forward(x);
                    }

                    return x;
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0002");

        Assert.Contains("'Depth'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_mistake_inside_an_unrolled_loop_is_reported_once()
    {
        // The loop body is read once per iteration; its mistake is one mistake of the source.
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [Linear(8, 8)] readonly Layer fc;

                [Forward]
                public Tensor Forward(Tensor x) => Relu(fc(x));
            }

            [Model]
            public partial class LoopHelper
            {
                [Repeat(3)] readonly Block[] layers;

                static Tensor Normalize(Tensor t) => t;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x)
                {
                    for (int i = 0; i < 3; i++)
                    {
                        x = layers[i].Forward([|Normalize(x)|]);
                    }

                    return x;
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("'Normalize'", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_module_that_contains_itself()
    {
        var source = TestSource.Model("""
            [Module]
            public class Russian
            {
                [Linear(8, 8)] readonly Layer fc;
                readonly Russian [|doll|];

                [Forward]
                public Tensor Forward(Tensor x) => doll.Forward(fc(x));
            }

            [Model]
            public partial class Dolls
            {
                readonly Russian outer;

                [Forward]
                Tensor Forward([Shape(8)] Tensor x) => outer.Forward(x);
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("module Russian contains itself", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("as a tree", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_mistake_inside_a_module_is_reported_once_at_the_module()
    {
        // Two models use the module: its own mistake is still one diagnostic, at its attribute.
        var source = TestSource.Model("""
            [Module]
            public class Block
            {
                [[|MultiheadAttention(10, 3)|]] readonly AttentionLayer self_attn;

                [Forward]
                public Tensor Forward(Tensor x) => self_attn(x, x, x);
            }

            [Model]
            public partial class First
            {
                [Embedding(10, 10)] readonly EmbeddingLayer embed;
                readonly Block block;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => block.Forward(embed(src));
            }

            [Model]
            public partial class Second
            {
                [Embedding(10, 10)] readonly EmbeddingLayer embed;
                readonly Block block;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => block.Forward(embed(src));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("embed_dim (10) must be divisible by num_heads (3)", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- tokens and masks ------------------------------------------------------------------------------------

    [Fact]
    public void GC0001_embedding_given_a_float_tensor()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class FloatLookup
            {
                [Embedding(10, 8)] readonly EmbeddingLayer embed;
                [Linear(8, 4)]     readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(6)] Tensor x) => fc({|GC0001:embed({|CS1503:x|})|});
            }
            """);

        // EmbeddingLayer takes Tokens, so the compiler reports the argument; the generator says where tokens come from.
        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0001");

        Assert.Contains("Embedding looks up integer tokens", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("[Shape(length)] Tokens", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_tokens_given_to_a_linear_layer()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class LinearTokens
            {
                [Linear(6, 4)] readonly Layer fc;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => {|GC0003:fc({|CS1503:src|})|};
            }
            """);

        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("Embedding layer first", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_tokens_given_to_relu()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class ReluTokens
            {
                [Embedding(10, 8)] readonly EmbeddingLayer embed;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => embed(src) + Relu({|CS1503:{|GC0003:src|}|});
            }
            """);

        // Not "the call 'Relu' is not supported": the compiler's failed overload resolution must not hide which op it is.
        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("Embedding layer first", d.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("not supported", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_mask_parameter_on_a_model_forward()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class MaskInput
            {
                [Embedding(10, 8)]         readonly EmbeddingLayer embed;
                [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src, Mask [|padding|])
                {
                    var x = embed(src);
                    return self_attn(x, x, x, keyPaddingMask: padding);
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0003");

        Assert.Contains("var mask = padding == Pad;", d.GetMessage(), StringComparison.Ordinal);
    }

    // ---- attention, LayerNorm, Dropout ---------------------------------------------------------------------

    [Fact]
    public void GC0008_attention_embed_dim_not_divisible_by_heads()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class OddHeads
            {
                [Embedding(10, 10)]                readonly EmbeddingLayer embed;
                [[|MultiheadAttention(10, 4)|]]    readonly AttentionLayer self_attn;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src)
                {
                    var x = embed(src);
                    return self_attn(x, x, x);
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("embed_dim (10) must be divisible by num_heads (4)", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_attention_given_rows_of_another_width()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class NarrowAttention
            {
                [Embedding(10, 16)]        readonly EmbeddingLayer embed;
                [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src)
                {
                    var x = embed(src);
                    return [|self_attn(x, x, x)|];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("takes a [length, 8] query per sample", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("[6, 16]", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_layer_norm_over_another_size()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class WideNorm
            {
                [Embedding(10, 8)]    readonly EmbeddingLayer embed;
                [[|LayerNorm(16)|]]   readonly Layer norm;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => norm(embed(src));
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("declare [LayerNorm(8)]", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0001_causal_attention_between_sequences_of_different_lengths()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class CausalCross
            {
                [Embedding(10, 8)]         readonly EmbeddingLayer src_embed;
                [Embedding(10, 8)]         readonly EmbeddingLayer tgt_embed;
                [MultiheadAttention(8, 2)] readonly AttentionLayer cross_attn;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src, [Shape(4)] Tokens tgt)
                {
                    var memory = src_embed(src);
                    var y = tgt_embed(tgt);
                    return [|cross_attn(y, memory, memory, isCausal: true)|];
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0001");

        Assert.Contains("isCausal needs as many queries as keys", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0003_key_padding_mask_given_a_tensor()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class TensorMask
            {
                [Embedding(10, 8)]         readonly EmbeddingLayer embed;
                [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src)
                {
                    var x = embed(src);
                    return self_attn(x, x, x, keyPaddingMask: {|CS1503:{|GC0003:x|}|});
                }
            }
            """);

        Diagnostic d = DiagnosticAssert.Reports(GeneratorHarness.Run(source), source).Single(d => d.Id == "GC0003");

        Assert.Contains("keyPaddingMask: src == Pad", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void GC0008_dropout_probability_of_one()
    {
        var source = TestSource.Model("""
            [Model]
            public partial class DropAll
            {
                [Embedding(10, 8)] readonly EmbeddingLayer embed;

                [Forward]
                Tensor Forward([Shape(6)] Tokens src) => [|Dropout(embed(src), 1.0)|];
            }
            """);

        Diagnostic d = DiagnosticAssert.Single(GeneratorHarness.Run(source), source, "GC0008");

        Assert.Contains("Dropout probability must be in [0, 1); got 1", d.GetMessage(), StringComparison.Ordinal);
    }
}
