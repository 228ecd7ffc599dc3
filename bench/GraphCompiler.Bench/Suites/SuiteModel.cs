using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Suites;

/// <summary>The seeds every suite and peer uses, so that they all run the same computation.</summary>
public static class PeerSeeds
{
    /// <summary>The generated models' seeded default initialization.</summary>
    public const int Weights = 0;

    /// <summary>The input batch (<see cref="SeedCnn.RandomInput"/>: 784 pixels in [0, 1) per sample).</summary>
    public const int Input = 1;

    /// <summary>The labels of a training batch (<see cref="SeedCnn.RandomLabels"/>).</summary>
    public const int Labels = 2;

    /// <summary>The large batch of the peers and of the all-cores suites.</summary>
    public const int LargeBatch = 64;
}

/// <summary>
/// What the suites and the peers need of one model, whatever it is: its size, its cost, its PyTorch
/// parameter layout, how to create the generated model and its ONNX export. One instance per model
/// (<c>CnnModel</c>, <c>LstmModel</c>); the generic suites (<see cref="InferenceSuite{TModel}"/>,
/// <see cref="TrainingSuite{TModel}"/>, <see cref="AllCoresSuite{TModel}"/>) take it from their subclass.
/// </summary>
public abstract class SuiteModel
{
    /// <summary>Short key: file names of the peers' data and the PyTorch script's model name.</summary>
    public abstract string Key { get; }

    /// <summary>For titles: "seed CNN".</summary>
    public abstract string Title { get; }

    /// <summary>Floats per input and output sample.</summary>
    public abstract int InputLength { get; }

    public abstract int OutputLength { get; }

    /// <summary>The ONNX input shape at a batch (the output is [batch, <see cref="OutputLength"/>]).</summary>
    public abstract long[] OnnxInputShape(int batch);

    /// <summary>Parameter names and PyTorch shapes, in declaration order.</summary>
    public abstract IReadOnlyList<(string Name, int[] Shape)> ParameterShapes { get; }

    /// <summary>FLOP of one sample's forward pass (2 per multiply-accumulate).</summary>
    public abstract double FlopsPerSample { get; }

    /// <summary>FLOP of one sample's training step (see <see cref="TrainingFlopsBreakdown"/>).</summary>
    public abstract double TrainingFlopsPerSample { get; }

    public abstract string FlopsBreakdown { get; }

    public abstract string TrainingFlopsBreakdown { get; }

    /// <summary>
    /// Bytes of weights one batch-1 forward call must stream from the caches (the recurrent weights, once per
    /// step and layer), or null when the model is not bound by that.
    /// </summary>
    public virtual double? StreamedBytesPerCall => null;

    /// <summary>What <see cref="StreamedBytesPerCall"/> counts, for the report.</summary>
    public virtual string? StreamedBytesBreakdown => null;

    /// <summary>FLOP of a batch-1 call's input projections (compute-bound, no weights streamed), for a model that streams.</summary>
    public virtual double? InputProjectionFlopsPerCall => null;

    /// <summary>The serialized ONNX model of these parameters (the generated model's, PyTorch names and layouts).</summary>
    public abstract byte[] ToOnnx(ParameterSet parameters);

    /// <summary>How <see cref="ToOnnx"/> builds the model, for the report.</summary>
    public abstract string OnnxSource { get; }

    /// <summary>The graph input and output names of <see cref="ToOnnx"/>'s model.</summary>
    public virtual (string Input, string Output) OnnxNames => ("input", "output");

    /// <summary>
    /// An ONNX Runtime session at one batch, 1 thread or (0) its default, over a model with the input and output
    /// names <paramref name="names"/> (by default <see cref="OnnxNames"/>).
    /// </summary>
    public virtual OrtRunner CreateOrt(byte[] onnx, int batch, int intraOpThreads, (string Input, string Output)? names = null)
    {
        (string input, string output) = names ?? OnnxNames;
        return new OrtRunner(onnx, input, OnnxInputShape(batch), output, [batch, OutputLength], intraOpThreads);
    }

    /// <summary>The batch of the training step in the peers table (the issue's: 64, the Transformer's 32).</summary>
    public virtual int TrainingBatch => PeerSeeds.LargeBatch;

    /// <summary>The seeded input batch; a smaller batch is the start of a larger one.</summary>
    public virtual float[] Input(int batch)
    {
        if (InputLength != SeedCnn.InputSize)
        {
            throw new InvalidOperationException($"{Title}: the seeded inputs are 784 floats per sample, the model takes {InputLength}.");
        }

        return SeedCnn.RandomInput(batch, PeerSeeds.Input);
    }

    /// <summary>The seeded labels; a smaller batch is the start of a larger one.</summary>
    public virtual int[] Labels(int batch) => SeedCnn.RandomLabels(batch, PeerSeeds.Labels);

    /// <summary>
    /// The training loss of an output batch and its gradient over the output (which may overwrite it): by default
    /// cross-entropy of the logits against one label per sample.
    /// </summary>
    public virtual float Loss(ReadOnlySpan<float> output, ReadOnlySpan<int> labels, Span<float> gradient) =>
        Losses.CrossEntropy(output, labels, gradient);

    /// <summary>A parameter set's values by name, checked against <see cref="ParameterShapes"/>.</summary>
    public Dictionary<string, float[]> ReadParameters(ParameterSet set)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach ((string name, int[] shape) in ParameterShapes)
        {
            ParameterInfo info = set.Info(name);
            if (!info.Shape.SequenceEqual(shape))
            {
                throw new InvalidOperationException(
                    $"Parameter '{name}' of the generated {Title} has shape {info.ShapeText}; PyTorch's is [{string.Join(", ", shape)}].");
            }

            result.Add(name, set.Read(name).ToArray());
        }

        if (set.Layout.Count != ParameterShapes.Count)
        {
            throw new InvalidOperationException(
                $"The generated {Title} has {set.Layout.Count} parameters; PyTorch's has {ParameterShapes.Count}.");
        }

        return result;
    }

    /// <summary>ONNX Runtime against the engine that produced <paramref name="output"/>, on the same input.</summary>
    public double CheckOrt(byte[] onnx, ReadOnlySpan<float> input, ReadOnlySpan<float> output, int batch, string engine)
    {
        using OrtRunner ort = CreateOrt(onnx, batch, intraOpThreads: 1);
        input.CopyTo(ort.Input);
        ort.Run();
        return Check.Agree(engine, output, "ONNX Runtime", ort.Output, Check.Tolerance);
    }
}

/// <summary>The first and last loss of a training benchmark's steps, for the peers report.</summary>
public sealed record TrainingRun(long Steps, float FirstLoss, float LastLoss);

/// <summary>The training step every engine times, and what the in-process runs recorded of it.</summary>
public static class TrainingSettings
{
    /// <summary>
    /// The optimizer's settings, PyTorch's <c>SGD(lr=1e-5, momentum=0.9)</c>. The learning rate is small on
    /// purpose: a benchmark repeats one batch thousands of times, and with a usual rate (0.01) the model
    /// memorizes it within a few hundred steps, the loss becomes exactly 0 and the momentum buffers then
    /// decay through denormal floats, which slows every engine several times over (a state no real
    /// training run is in). With 1e-5 the loss stays near its starting value and every step does the same
    /// arithmetic on gradients of realistic size.
    /// </summary>
    public const float LearningRate = 1e-5f, Momentum = 0.9f;

    /// <summary>
    /// For the peers report (in-process runs): steps taken and the first and last loss of each training
    /// case, by (model key, batch, workers), recorded at cleanup, to show that the timed steps stayed in a
    /// realistic regime.
    /// </summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Model, int Batch, int Workers), TrainingRun> Runs = new();
}
