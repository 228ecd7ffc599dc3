using System.Globalization;
using Google.Protobuf;
using GraphCompiler.Bench.Runners;
using GraphCompiler.Bench.Suites;
using GraphCompiler.Onnx;
using GraphCompiler.Tests.Models;

namespace GraphCompiler.Bench.Models;

/// <summary>
/// <see cref="SeedTransformer"/> behind the float interface the generic suites drive (<see cref="ICompiledModel"/>):
/// a sample's input is its 16 source then 16 target token ids as floats, copied into int buffers before each
/// call (32 conversions per sample, a few nanoseconds; ONNX Runtime's runner does the same into its int64
/// inputs); the output is the log-probabilities [16, 48].
/// </summary>
public sealed class TransformerWorkspace : ICompiledModel
{
    public const int Length = 16, Vocabulary = 48;

    private readonly int[] _src, _tgt;

    public TransformerWorkspace(SeedTransformer model)
    {
        Model = model;
        _src = new int[model.MaxBatch * Length];
        _tgt = new int[model.MaxBatch * Length];
    }

    public SeedTransformer Model { get; }

    public int InputLength => 2 * Length;

    public int OutputLength => SeedTransformer.OutputSize;

    public int MaxBatch => Model.MaxBatch;

    public ParameterSet Parameters => Model.Parameters;

    public bool Training
    {
        get => Model.Training;
        set => Model.Training = value;
    }

    public AlignedBuffer Gradients => Model.Gradients;

    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        int batch = input.Length / InputLength;
        for (int n = 0; n < batch; n++)
        {
            ReadOnlySpan<float> sample = input.Slice(n * InputLength, InputLength);
            for (int i = 0; i < Length; i++)
            {
                _src[n * Length + i] = (int)sample[i];
                _tgt[n * Length + i] = (int)sample[Length + i];
            }
        }

        Model.Forward(_src.AsSpan(0, batch * Length), _tgt.AsSpan(0, batch * Length), output);
    }

    public void Backward(ReadOnlySpan<float> outputGrad) => Model.Backward(outputGrad);

    public void Backward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad) =>
        throw new NotSupportedException("Token inputs have no gradient.");
}

/// <summary>
/// The seed-size Transformer for the generic suites and the peers: d_model 64, 4 heads, 2 + 2 layers, feed-forward
/// 256, source and target length 16, vocabulary 48, dropout 0. Inputs are padded token batches (token 0 is
/// padding, position 0 never is; the target starts with token 1), labels the next target token at each position
/// (0 where the target is padding: ignored by the loss, PyTorch's <c>nll_loss(ignore_index=0)</c>, mean over the
/// other positions).
/// </summary>
public sealed class TransformerModel : SuiteModel<TransformerWorkspace>
{
    public const int Length = TransformerWorkspace.Length, Vocabulary = TransformerWorkspace.Vocabulary;
    public const int DModel = 64, FeedForward = 256, Layers = 2;

    public static readonly TransformerModel Instance = new();

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public override string Key => "transformer";

    public override string Title => "seed Transformer";

    public override int InputLength => 2 * Length;

    public override int OutputLength => SeedTransformer.OutputSize;

    /// <summary>The shape of the peers' shared input tensor: [batch, source and target tokens].</summary>
    public override long[] OnnxInputShape(int batch) => [batch, 2 * Length];

    public override int TrainingBatch => 32;

    public override IReadOnlyList<(string Name, int[] Shape)> ParameterShapes =>
        SeedTransformer.ParameterLayout.Select(p => (p.Name, p.Shape)).ToArray();

    // Per sample (length L = 16 on both sides, E = 64, F = 256, V = 48), 2 FLOP per multiply-accumulate:
    // attention = projections + scores + context + out_proj; feed-forward 2 x 2 L E F.
    private static double SelfAttention => (2.0 * Length * DModel * 3 * DModel) + (2 * 2.0 * Length * Length * DModel) + (2.0 * Length * DModel * DModel);

    private static double CrossAttention => (2.0 * Length * DModel * DModel) + (2.0 * Length * DModel * 2 * DModel) + (2 * 2.0 * Length * Length * DModel) + (2.0 * Length * DModel * DModel);

    private static double FeedForwardFlops => 2 * 2.0 * Length * DModel * FeedForward;

    private static double Generator => 2.0 * Length * DModel * Vocabulary;

    private static double EncoderLayer => SelfAttention + FeedForwardFlops;

    private static double DecoderLayer => SelfAttention + CrossAttention + FeedForwardFlops;

    public override double FlopsPerSample => (Layers * EncoderLayer) + (Layers * DecoderLayer) + Generator;

    /// <summary>Forward, weight gradients and input gradients of every product (the embeddings' lookups are not products).</summary>
    public override double TrainingFlopsPerSample => 3 * FlopsPerSample;

    public override string FlopsBreakdown => string.Create(
        Inv,
        $"2 encoder layers x {EncoderLayer:N0} + 2 decoder layers x {DecoderLayer:N0} + generator {Generator:N0} = {FlopsPerSample:N0} FLOP per sample " +
        $"(source and target length {Length}; attention projections, scores, context and out_proj, feed-forward; softmax, norms and masks not counted)");

    public override string TrainingFlopsBreakdown => string.Create(
        Inv,
        $"{TrainingFlopsPerSample:N0} FLOP per sample (3 x forward: the products, their weight gradients and their input gradients; " +
        $"norms, softmax, loss and the optimizer update not counted)");

    public override byte[] ToOnnx(ParameterSet parameters) => OnnxExport.ToModel(SeedTransformer.Graph, parameters, Key).ToByteArray();

    public override string OnnxSource =>
        "written by GraphCompiler.Onnx (`OnnxExport.ToModel` of the generated `Graph`, opset 17): int64 token inputs, Gather embeddings, " +
        "LayerNormalization, attention as MatMul/Softmax with constant causal and Where(Equal(tokens, 0)) padding masks; " +
        "checked against the generated model in tests/GraphCompiler.Tests/Onnx/TransformerExportTests.cs";

    public override (string Input, string Output) OnnxNames => (SeedTransformer.Graph.Input, SeedTransformer.Graph.Output);

    /// <summary>A runner over the two int64 token inputs, fed from the float input (source then target per sample).</summary>
    public override OrtRunner CreateOrt(byte[] onnx, int batch, int intraOpThreads, (string Input, string Output)? names = null) =>
        new OrtRunner(onnx, TokenInputs, batch, SeedTransformer.Graph.Output, new long[] { batch, Length, Vocabulary }, intraOpThreads);

    private static readonly (string Name, int Length)[] TokenInputs = [("src", Length), ("tgt", Length)];

    public override TransformerWorkspace Create(int maxBatch) => new(new SeedTransformer(maxBatch, PeerSeeds.Weights));

    public override TransformerWorkspace Create(ParameterSet parameters, int maxBatch) => new(new SeedTransformer(parameters, maxBatch));

    public override float[] Input(int batch)
    {
        (float[] input, _) = Tokens(batch);
        return input;
    }

    public override int[] Labels(int batch)
    {
        (_, int[] labels) = Tokens(batch);
        return labels;
    }

    /// <summary>Mean negative log-likelihood of the labels over the positions whose label is not 0; its gradient over the log-probabilities.</summary>
    public override float Loss(ReadOnlySpan<float> output, ReadOnlySpan<int> labels, Span<float> gradient) =>
        NllLoss(output, labels, gradient, Vocabulary);

    /// <summary>
    /// PyTorch's <c>F.nll_loss(logp.view(-1, V), y.view(-1), ignore_index=0)</c>: the mean of -logp[label] over the rows
    /// whose label is not 0; the gradient (which may overwrite <paramref name="logProbs"/>) is -1/count at each label.
    /// </summary>
    public static float NllLoss(ReadOnlySpan<float> logProbs, ReadOnlySpan<int> labels, Span<float> gradient, int classes)
    {
        double sum = 0;
        int count = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            if (labels[r] != 0)
            {
                sum -= logProbs[(r * classes) + labels[r]];
                count++;
            }
        }

        gradient[..(labels.Length * classes)].Clear();
        if (count == 0)
        {
            return 0;
        }

        float g = -1f / count;
        for (int r = 0; r < labels.Length; r++)
        {
            if (labels[r] != 0)
            {
                gradient[(r * classes) + labels[r]] = g;
            }
        }

        return (float)(sum / count);
    }

    /// <summary>
    /// Seeded token batches (<see cref="PeerSeeds.Input"/>); a smaller batch is the start of a larger one. Sample n:
    /// a source of 9 to 16 tokens in [3, 48) padded with 0; a target sequence 1 (start), y_1 .. y_m, 2 (end) of 8 to 17
    /// tokens, whose first 16 are the decoder input (then padding) and whose next tokens are the labels (0 where
    /// the decoder input is padding).
    /// </summary>
    public static (float[] Input, int[] Labels) Tokens(int batch)
    {
        var random = new Random(PeerSeeds.Input);
        var input = new float[batch * 2 * Length];
        var labels = new int[batch * Length];
        for (int n = 0; n < batch; n++)
        {
            int sourceLength = Length - (n * 5 % 8);
            for (int i = 0; i < sourceLength; i++)
            {
                input[(n * 2 * Length) + i] = random.Next(3, Vocabulary);
            }

            int used = Length - (n * 3 % 9); // decoder input positions that are not padding
            var sequence = new int[used + 1];
            sequence[0] = 1;
            for (int i = 1; i < used; i++)
            {
                sequence[i] = random.Next(3, Vocabulary);
            }

            sequence[used] = 2;
            for (int i = 0; i < used; i++)
            {
                input[(n * 2 * Length) + Length + i] = sequence[i];
                labels[(n * Length) + i] = sequence[i + 1];
            }
        }

        return (input, labels);
    }
}
