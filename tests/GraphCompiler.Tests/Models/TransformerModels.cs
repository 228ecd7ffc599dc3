using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Models;

// A small encoder-decoder Transformer in nn.Transformer's structure (post-norm layers, ReLU feed-forward,
// final encoder and decoder norms), mirrored in tests/golden/make_golden.py (case TinyTransformer) with the
// same parameter names: d_model 16, 2 heads, 2 + 2 layers, feed-forward 32, vocabulary 11, source length 6,
// target length 5. Dropout is 0 so that PyTorch and the generated code compute the same thing.

[Module]
public class TinyEncoderLayer
{
    [MultiheadAttention(16, 2)] readonly AttentionLayer self_attn;
    [Linear(16, 32)] readonly Layer linear1;
    [Linear(32, 16)] readonly Layer linear2;
    [LayerNorm(16)] readonly Layer norm1;
    [LayerNorm(16)] readonly Layer norm2;

    [Forward]
    public Tensor Forward(Tensor x, Mask padding)
    {
        x = norm1(x + self_attn(x, x, x, keyPaddingMask: padding));
        return norm2(x + linear2(Relu(linear1(x))));
    }
}

[Module]
public class TinyDecoderLayer
{
    [MultiheadAttention(16, 2)] readonly AttentionLayer self_attn;
    [MultiheadAttention(16, 2)] readonly AttentionLayer multihead_attn;
    [Linear(16, 32)] readonly Layer linear1;
    [Linear(32, 16)] readonly Layer linear2;
    [LayerNorm(16)] readonly Layer norm1;
    [LayerNorm(16)] readonly Layer norm2;
    [LayerNorm(16)] readonly Layer norm3;

    [Forward]
    public Tensor Forward(Tensor y, Tensor memory, Mask targetPadding, Mask memoryPadding)
    {
        y = norm1(y + self_attn(y, y, y, keyPaddingMask: targetPadding, isCausal: true));
        y = norm2(y + multihead_attn(y, memory, memory, keyPaddingMask: memoryPadding));
        return norm3(y + linear2(Relu(linear1(y))));
    }
}

[Module]
public class TinyEncoder
{
    [Repeat(2)] readonly TinyEncoderLayer[] layers;
    [LayerNorm(16)] readonly Layer norm;

    [Forward]
    public Tensor Forward(Tensor x, Mask padding)
    {
        for (int i = 0; i < 2; i++)
        {
            x = layers[i].Forward(x, padding);
        }

        return norm(x);
    }
}

[Module]
public class TinyDecoder
{
    [Repeat(2)] readonly TinyDecoderLayer[] layers;
    [LayerNorm(16)] readonly Layer norm;

    [Forward]
    public Tensor Forward(Tensor y, Tensor memory, Mask targetPadding, Mask memoryPadding)
    {
        for (int i = 0; i < 2; i++)
        {
            y = layers[i].Forward(y, memory, targetPadding, memoryPadding);
        }

        return norm(y);
    }
}

[Module]
public class TinyTransformerCore
{
    readonly TinyEncoder encoder;
    readonly TinyDecoder decoder;

    [Forward]
    public Tensor Forward(Tensor source, Tensor target, Mask sourcePadding, Mask targetPadding)
    {
        var memory = encoder.Forward(source, sourcePadding);
        return decoder.Forward(target, memory, targetPadding, sourcePadding);
    }
}

/// <summary>Log-probabilities [5, 11] of the next target token at each position.</summary>
[Model]
public partial class TinyTransformer
{
    const int Pad = 0;

    [Embedding(11, 16)] readonly EmbeddingLayer src_embed;
    [Embedding(11, 16)] readonly EmbeddingLayer tgt_embed;
    readonly TinyTransformerCore transformer;
    [Linear(16, 11)] readonly Layer generator;

    [Forward]
    Tensor Forward([Shape(6)] Tokens src, [Shape(5)] Tokens tgt)
    {
        var srcPad = src == Pad;
        var tgtPad = tgt == Pad;
        var x = PositionalEncoding(src_embed(src) * 4.0);
        var y = PositionalEncoding(tgt_embed(tgt) * 4.0);
        return LogSoftmax(generator(transformer.Forward(x, y, srcPad, tgtPad)));
    }
}

/// <summary>The same with dropout 0.25 everywhere nn.Transformer has it (for the dropout tests).</summary>
[Model]
public partial class TinyTransformerDropout
{
    const int Pad = 0;

    [Embedding(11, 16)] readonly EmbeddingLayer src_embed;
    [Embedding(11, 16)] readonly EmbeddingLayer tgt_embed;
    [MultiheadAttention(16, 2, Dropout = 0.25)] readonly AttentionLayer self_attn;
    [MultiheadAttention(16, 2, Dropout = 0.25)] readonly AttentionLayer cross_attn;
    [LayerNorm(16)] readonly Layer norm;
    [Linear(16, 11)] readonly Layer generator;

    [Forward]
    Tensor Forward([Shape(6)] Tokens src, [Shape(5)] Tokens tgt)
    {
        var memory = Dropout(PositionalEncoding(src_embed(src) * 4.0), 0.25);
        var y = Dropout(PositionalEncoding(tgt_embed(tgt)), 0.25);
        y = norm(y + Dropout(self_attn(y, y, y, keyPaddingMask: tgt == Pad, isCausal: true), 0.25));
        y = y + Gelu(cross_attn(y, memory, memory, keyPaddingMask: src == Pad));
        return LogSoftmax(generator(y));
    }
}

/// <summary>Learned positions (PositionalEmbedding) on both sides, one decoder block: for the gradient and decoding tests.</summary>
[Model]
public partial class TinyLearnedPositions
{
    const int Pad = 0;

    [Embedding(11, 16)] readonly EmbeddingLayer src_embed;
    [Embedding(11, 16)] readonly EmbeddingLayer tgt_embed;
    [PositionalEmbedding(8, 16)] readonly Layer src_pos;
    [PositionalEmbedding(8, 16)] readonly Layer tgt_pos;
    [MultiheadAttention(16, 2)] readonly AttentionLayer self_attn;
    [MultiheadAttention(16, 2)] readonly AttentionLayer cross_attn;
    [LayerNorm(16)] readonly Layer norm;
    [Linear(16, 11)] readonly Layer generator;

    [Forward]
    Tensor Forward([Shape(6)] Tokens src, [Shape(5)] Tokens tgt)
    {
        var memory = src_pos(src_embed(src));
        var y = tgt_pos(tgt_embed(tgt) * 4.0);
        y = norm(y + self_attn(y, y, y, keyPaddingMask: tgt == Pad, isCausal: true));
        y = y + cross_attn(y, memory, memory, keyPaddingMask: src == Pad);
        return LogSoftmax(generator(y));
    }
}
