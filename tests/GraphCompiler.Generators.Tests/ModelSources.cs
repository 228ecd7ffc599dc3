using System.Runtime.CompilerServices;

namespace GraphCompiler.Generators.Tests;

/// <summary>Model declarations shared by the snapshot, diagnostic and incremental tests.</summary>
internal static class ModelSources
{
    /// <summary>
    /// The seed's CNN exactly as <c>samples/Mnist/MnistCnn.cs</c> declares it (a test keeps the two equal), so the
    /// snapshot shows what the sample's users get.
    /// </summary>
    public const string MnistCnn = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace Mnist;

        /// <summary>The seed's CNN (section 4.1), with fc1 sized for a 28x28 input: 64 channels of 7x7 after two pools.</summary>
        [Model]
        public partial class MnistCnn
        {
            [Conv2d(1, 32, Kernel = 3, Padding = 1)]  readonly Layer conv1;
            [Conv2d(32, 64, Kernel = 3, Padding = 1)] readonly Layer conv2;
            [MaxPool2d(2)]                            readonly Layer pool;
            [Linear(64 * 7 * 7, 128)]                 readonly Layer fc1;
            [Linear(128, 10)]                         readonly Layer fc2;

            [Forward]
            Tensor Forward([Shape(1, 28, 28)] Tensor x)
            {
                x = pool(Relu(conv1(x)));
                x = pool(Relu(conv2(x)));
                x = Flatten(x);
                x = Relu(fc1(x));
                return fc2(x);
            }
        }

        """;

    /// <summary>A small classifier whose generated code fits on a few screens: Linear, Tanh, Linear, Softmax.</summary>
    public const string TinyClassifier = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace App;

        [Model]
        public partial class TinyClassifier
        {
            [Linear(12, 20)] readonly Layer hidden;
            [Linear(20, 5)]  readonly Layer head;

            [Forward]
            Tensor Forward([Shape(12)] Tensor x) => Softmax(head(Tanh(hidden(x))));
        }

        """;

    /// <summary>The seed's LSTM classifier (section 4.2): two stacked layers over 28 rows of 28 pixels, the last step to 10 classes.</summary>
    public const string SeedRnn = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace Sequences;

        [Model]
        public partial class SeedRnn
        {
            [Lstm(28, 128, NumLayers = 2)] readonly LstmLayer lstm;
            [Linear(128, 10)]              readonly Layer fc;

            [Forward]
            Tensor Forward([Shape(28, 28)] Tensor x)
            {
                var (output, (hn, cn)) = lstm(x);
                return fc(output[.., ^1]);
            }
        }

        """;

    /// <summary>A small GRU whose generated code is short: one layer, hidden size not a multiple of the vector width, h_n read.</summary>
    public const string TinyGru = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace App;

        [Model]
        public partial class TinyGru
        {
            [Gru(3, 5)]      readonly GruLayer gru;
            [Linear(5, 2)]   readonly Layer head;

            [Forward]
            Tensor Forward([Shape(4, 3)] Tensor x)
            {
                var (_, hn) = gru(x);
                return head(Select(hn, 1, 0));
            }
        }

        """;

    /// <summary>
    /// A Transformer small enough to read: a [Repeat(2)] encoder of post-norm self-attention layers with a GELU
    /// feed-forward, one decoder layer (causal self-attention, cross-attention), token embeddings scaled by
    /// sqrt(d_model), positional encoding, padding masks, dropout and log-probabilities. Two token inputs with one
    /// output row per target position, so it also gets the incremental decoder.
    /// </summary>
    public const string TinySeq2Seq = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        namespace Translate;

        [Module]
        public class EncoderLayer
        {
            [MultiheadAttention(8, 2, Dropout = 0.1)] readonly AttentionLayer self_attn;
            [Linear(8, 16)] readonly Layer linear1;
            [Linear(16, 8)] readonly Layer linear2;
            [LayerNorm(8)]  readonly Layer norm1;
            [LayerNorm(8)]  readonly Layer norm2;

            [Forward]
            public Tensor Forward(Tensor x, Mask padding)
            {
                x = norm1(x + Dropout(self_attn(x, x, x, keyPaddingMask: padding), 0.1));
                return norm2(x + Dropout(linear2(Gelu(linear1(x))), 0.1));
            }
        }

        [Module]
        public class Encoder
        {
            [Repeat(2)]    readonly EncoderLayer[] layers;
            [LayerNorm(8)] readonly Layer norm;

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
        public class DecoderLayer
        {
            [MultiheadAttention(8, 2)] readonly AttentionLayer self_attn;
            [MultiheadAttention(8, 2)] readonly AttentionLayer multihead_attn;
            [LayerNorm(8)]             readonly Layer norm1;
            [LayerNorm(8)]             readonly Layer norm2;

            [Forward]
            public Tensor Forward(Tensor y, Tensor memory, Mask targetPadding, Mask memoryPadding)
            {
                y = norm1(y + self_attn(y, y, y, keyPaddingMask: targetPadding, isCausal: true));
                return norm2(y + multihead_attn(y, memory, memory, keyPaddingMask: memoryPadding));
            }
        }

        /// <summary>Log-probabilities [4, 10] of the next target token at each of the 4 target positions.</summary>
        [Model]
        public partial class TinySeq2Seq
        {
            const int Pad = 0;

            [Embedding(10, 8)] readonly EmbeddingLayer src_embed;
            [Embedding(10, 8)] readonly EmbeddingLayer tgt_embed;
            readonly Encoder encoder;
            readonly DecoderLayer decoder;
            [Linear(8, 10)]    readonly Layer generator;

            [Forward]
            Tensor Forward([Shape(5)] Tokens src, [Shape(4)] Tokens tgt)
            {
                var srcPad = src == Pad;
                var tgtPad = tgt == Pad;
                var memory = encoder.Forward(Dropout(PositionalEncoding(src_embed(src) * 2.0), 0.1), srcPad);
                var y = PositionalEncoding(tgt_embed(tgt) * 2.0);
                return LogSoftmax(generator(decoder.Forward(y, memory, tgtPad, srcPad)));
            }
        }

        """;

    /// <summary>A file of the user's project that has nothing to do with any model.</summary>
    public const string Unrelated = """
        namespace App.Services;

        public sealed class Greeter
        {
            public string Greet(string name) => "Hello, " + name;
        }

        """;

    /// <summary>The repository root (the folder of GraphCompiler.sln), found from this file's path or the test binaries.</summary>
    public static string RepositoryRoot([CallerFilePath] string callerFilePath = "")
    {
        foreach (string? start in new[] { Path.GetDirectoryName(callerFilePath), AppContext.BaseDirectory })
        {
            for (string? dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "GraphCompiler.sln"))) return dir;
            }
        }
        throw new InvalidOperationException($"GraphCompiler.sln not found above '{callerFilePath}' or '{AppContext.BaseDirectory}'.");
    }
}
