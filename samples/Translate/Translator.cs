using GraphCompiler;
using static GraphCompiler.Ops;

namespace Translate;

// The seed's encoder-decoder Transformer (section 4.3), completed as PyTorch's nn.Transformer: post-norm
// layers with ReLU feed-forward, a final norm on the encoder and on the decoder, sinusoidal positional
// encoding, embeddings scaled by sqrt(d_model). d_model 64, 4 heads, 2 + 2 layers, feed-forward 256, dropout
// 0.1; characters in, characters out (a vocabulary of 48, sequences of 20). Parameter names are PyTorch's
// (transformer.encoder.layers.0.self_attn.in_proj_weight, ...): bench/transformer/translate_torch.py
// trains the same model.

/// <summary>nn.TransformerEncoderLayer(64, 4, 256, 0.1, batch_first=True).</summary>
[Module]
public class EncoderLayer
{
    [MultiheadAttention(64, 4, Dropout = 0.1)] readonly AttentionLayer self_attn;
    [Linear(64, 256)] readonly Layer linear1;
    [Linear(256, 64)] readonly Layer linear2;
    [LayerNorm(64)] readonly Layer norm1;
    [LayerNorm(64)] readonly Layer norm2;

    [Forward]
    public Tensor Forward(Tensor x, Mask padding)
    {
        x = norm1(x + Dropout(self_attn(x, x, x, keyPaddingMask: padding), 0.1));
        return norm2(x + Dropout(linear2(Dropout(Relu(linear1(x)), 0.1)), 0.1));
    }
}

/// <summary>nn.TransformerDecoderLayer(64, 4, 256, 0.1, batch_first=True).</summary>
[Module]
public class DecoderLayer
{
    [MultiheadAttention(64, 4, Dropout = 0.1)] readonly AttentionLayer self_attn;
    [MultiheadAttention(64, 4, Dropout = 0.1)] readonly AttentionLayer multihead_attn;
    [Linear(64, 256)] readonly Layer linear1;
    [Linear(256, 64)] readonly Layer linear2;
    [LayerNorm(64)] readonly Layer norm1;
    [LayerNorm(64)] readonly Layer norm2;
    [LayerNorm(64)] readonly Layer norm3;

    [Forward]
    public Tensor Forward(Tensor y, Tensor memory, Mask targetPadding, Mask memoryPadding)
    {
        y = norm1(y + Dropout(self_attn(y, y, y, keyPaddingMask: targetPadding, isCausal: true), 0.1));
        y = norm2(y + Dropout(multihead_attn(y, memory, memory, keyPaddingMask: memoryPadding), 0.1));
        return norm3(y + Dropout(linear2(Dropout(Relu(linear1(y)), 0.1)), 0.1));
    }
}

/// <summary>nn.TransformerEncoder: the layers, then a norm.</summary>
[Module]
public class Encoder
{
    [Repeat(2)] readonly EncoderLayer[] layers;
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

/// <summary>nn.TransformerDecoder: the layers, then a norm.</summary>
[Module]
public class Decoder
{
    [Repeat(2)] readonly DecoderLayer[] layers;
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

/// <summary>nn.Transformer: encoder and decoder.</summary>
[Module]
public class Transformer
{
    readonly Encoder encoder;
    readonly Decoder decoder;

    [Forward]
    public Tensor Forward(Tensor source, Tensor target, Mask sourcePadding, Mask targetPadding)
    {
        var memory = encoder.Forward(source, sourcePadding);
        return decoder.Forward(target, memory, targetPadding, sourcePadding);
    }
}

/// <summary>
/// German characters in, the log-probabilities of the next English character at each of the 20 target
/// positions out ([20, 48] per sample). Token 0 is padding.
/// </summary>
[Model]
public partial class Translator
{
    const int Pad = CharVocabulary.Pad;
    const double Scale = 8.0; // sqrt(d_model)

    [Embedding(CharVocabulary.Size, 64)] readonly EmbeddingLayer src_embed;
    [Embedding(CharVocabulary.Size, 64)] readonly EmbeddingLayer tgt_embed;
    readonly Transformer transformer;
    [Linear(64, CharVocabulary.Size)] readonly Layer generator;

    [Forward]
    Tensor Forward([Shape(TranslationPairs.MaxLength)] Tokens src, [Shape(TranslationPairs.MaxLength)] Tokens tgt)
    {
        var srcPad = src == Pad;
        var tgtPad = tgt == Pad;
        var x = Dropout(PositionalEncoding(src_embed(src) * Scale), 0.1);
        var y = Dropout(PositionalEncoding(tgt_embed(tgt) * Scale), 0.1);
        return LogSoftmax(generator(transformer.Forward(x, y, srcPad, tgtPad)));
    }
}
