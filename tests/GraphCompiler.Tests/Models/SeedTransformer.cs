using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Models;

// The seed-size Transformer of the benchmarks (bench/GraphCompiler.Bench compiles this file too): samples/Translate/Translator.cs at source and target length 16 and dropout 0. d_model 64, 4
// heads, 2 + 2 post-norm layers with ReLU feed-forward 256, final encoder and decoder norms, vocabulary 48,
// embeddings scaled by sqrt(d_model) = 8, sinusoidal positional encoding, token 0 is padding.

[Module]
public class SeedEncoderLayer
{
    [MultiheadAttention(64, 4)] readonly AttentionLayer self_attn;
    [Linear(64, 256)] readonly Layer linear1;
    [Linear(256, 64)] readonly Layer linear2;
    [LayerNorm(64)] readonly Layer norm1;
    [LayerNorm(64)] readonly Layer norm2;

    [Forward]
    public Tensor Forward(Tensor x, Mask padding)
    {
        x = norm1(x + self_attn(x, x, x, keyPaddingMask: padding));
        return norm2(x + linear2(Relu(linear1(x))));
    }
}

[Module]
public class SeedDecoderLayer
{
    [MultiheadAttention(64, 4)] readonly AttentionLayer self_attn;
    [MultiheadAttention(64, 4)] readonly AttentionLayer multihead_attn;
    [Linear(64, 256)] readonly Layer linear1;
    [Linear(256, 64)] readonly Layer linear2;
    [LayerNorm(64)] readonly Layer norm1;
    [LayerNorm(64)] readonly Layer norm2;
    [LayerNorm(64)] readonly Layer norm3;

    [Forward]
    public Tensor Forward(Tensor y, Tensor memory, Mask targetPadding, Mask memoryPadding)
    {
        y = norm1(y + self_attn(y, y, y, keyPaddingMask: targetPadding, isCausal: true));
        y = norm2(y + multihead_attn(y, memory, memory, keyPaddingMask: memoryPadding));
        return norm3(y + linear2(Relu(linear1(y))));
    }
}

[Module]
public class SeedEncoder
{
    [Repeat(2)] readonly SeedEncoderLayer[] layers;
    [LayerNorm(64)] readonly Layer norm;

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
public class SeedDecoder
{
    [Repeat(2)] readonly SeedDecoderLayer[] layers;
    [LayerNorm(64)] readonly Layer norm;

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
public class SeedTransformerCore
{
    readonly SeedEncoder encoder;
    readonly SeedDecoder decoder;

    [Forward]
    public Tensor Forward(Tensor source, Tensor target, Mask sourcePadding, Mask targetPadding)
    {
        var memory = encoder.Forward(source, sourcePadding);
        return decoder.Forward(target, memory, targetPadding, sourcePadding);
    }
}

/// <summary>Log-probabilities [16, 48] of the next target token at each position.</summary>
[Model]
public partial class SeedTransformer
{
    const int Pad = 0;

    [Embedding(48, 64)] readonly EmbeddingLayer src_embed;
    [Embedding(48, 64)] readonly EmbeddingLayer tgt_embed;
    readonly SeedTransformerCore transformer;
    [Linear(64, 48)] readonly Layer generator;

    [Forward]
    Tensor Forward([Shape(16)] Tokens src, [Shape(16)] Tokens tgt)
    {
        var srcPad = src == Pad;
        var tgtPad = tgt == Pad;
        var x = PositionalEncoding(src_embed(src) * 8.0);
        var y = PositionalEncoding(tgt_embed(tgt) * 8.0);
        return LogSoftmax(generator(transformer.Forward(x, y, srcPad, tgtPad)));
    }
}
