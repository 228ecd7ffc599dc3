using System.Diagnostics;
using GraphCompiler;

namespace Samples.Shared;

/// <summary>What one epoch did: running means over its samples, time, and the bytes its steps allocated.</summary>
public readonly record struct EpochStats(
    int Epoch, int Steps, int Samples, double LossSum, int Correct, TimeSpan Elapsed, long AllocatedBytes, int MeasuredSteps)
{
    public double MeanLoss => Samples == 0 ? 0 : LossSum / Samples;

    public double Accuracy => Samples == 0 ? 0 : (double)Correct / Samples;

    public double SamplesPerSecond => Elapsed.TotalSeconds > 0 ? Samples / Elapsed.TotalSeconds : 0;
}

/// <summary>Receives progress of an epoch every few steps (never inside a step).</summary>
public interface IEpochProgress
{
    void Update(int step, in EpochStats sofar);
}

/// <summary>An epoch's worth of training steps behind a progress display (<see cref="Trainer{TModel}"/>).</summary>
public interface ITrainer
{
    int StepsPerEpoch { get; }

    EpochStats RunEpoch(int epoch, IEpochProgress progress, int reportEvery);
}

/// <summary>
/// The training loop: every buffer is allocated here, once, so that a step (copy of the batch, forward in
/// training mode, cross-entropy, backward, gradient clipping when asked, optimizer update) allocates nothing.
/// </summary>
public sealed class Trainer<TModel> : ITrainer
    where TModel : class, ICompiledModel
{
    private const int WarmupSteps = 3; // JIT, packed weights: the first steps may allocate, later ones must not

    private readonly TModel _model;
    private readonly Optimizer _optimizer;
    private readonly BatchSampler _sampler;
    private readonly float[] _input;
    private readonly float[] _logits;
    private readonly int[] _labels;
    private readonly int _seed;
    private readonly float _clipNorm;
    private int _stepsRun;

    /// <param name="model">The workspace to train (training mode is set per epoch).</param>
    /// <param name="optimizer">Updates the model's parameters.</param>
    /// <param name="train">The training set.</param>
    /// <param name="batchSize">Samples per step (the last batch of an epoch may be smaller).</param>
    /// <param name="seed">Seed of the shuffling.</param>
    /// <param name="clipNorm">Largest global L2 norm of the gradients before each update; 0 for none.</param>
    public Trainer(TModel model, Optimizer optimizer, LabeledImages train, int batchSize, int seed, float clipNorm = 0f)
    {
        if (model.MaxBatch < batchSize)
        {
            throw new ArgumentException($"The model's workspace takes batches of up to {model.MaxBatch}, not {batchSize}.");
        }

        _model = model;
        _optimizer = optimizer;
        _sampler = new BatchSampler(train, batchSize);
        _input = new float[batchSize * model.InputLength];
        _logits = new float[batchSize * model.OutputLength];
        _labels = new int[batchSize];
        _seed = seed;
        _clipNorm = clipNorm;
    }

    public int StepsPerEpoch => _sampler.BatchCount;

    public int SamplesPerEpoch => _sampler.Count;

    /// <summary>Runs one epoch (shuffled from the seed and the epoch number, so a resumed run sees the same order).</summary>
    /// <param name="epoch">0-based.</param>
    /// <param name="progress">Told every <paramref name="reportEvery"/> steps and at the end.</param>
    public EpochStats RunEpoch(int epoch, IEpochProgress progress, int reportEvery)
    {
        _sampler.Shuffle(unchecked(_seed * 1_000_003 + epoch));
        _model.Training = true;
        int steps = _sampler.BatchCount;
        double lossSum = 0;
        int samples = 0;
        int correct = 0;
        long allocated = 0;
        int measured = 0;
        long start = Stopwatch.GetTimestamp();
        for (int step = 0; step < steps; step++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            (float loss, int n, int right) = Step(step);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (_stepsRun++ >= WarmupSteps)
            {
                allocated += after - before;
                measured++;
            }

            lossSum += (double)loss * n;
            samples += n;
            correct += right;
            if ((step + 1) % reportEvery == 0 || step + 1 == steps)
            {
                var sofar = new EpochStats(epoch, step + 1, samples, lossSum, correct, Stopwatch.GetElapsedTime(start), allocated, measured);
                progress.Update(step + 1, sofar);
            }
        }

        return new EpochStats(epoch, steps, samples, lossSum, correct, Stopwatch.GetElapsedTime(start), allocated, measured);
    }

    /// <summary>One training step on batch <paramref name="index"/> of the current order: the whole hot path.</summary>
    private (float Loss, int Samples, int Correct) Step(int index)
    {
        int n = _sampler.CopyBatch(index, _input, _labels);
        ReadOnlySpan<float> input = _input.AsSpan(0, n * _model.InputLength);
        Span<float> logits = _logits.AsSpan(0, n * _model.OutputLength);
        ReadOnlySpan<int> labels = _labels.AsSpan(0, n);

        _model.Forward(input, logits);
        int correct = Metrics.CountCorrect(logits, labels);
        float loss = Losses.CrossEntropy(logits, labels, logits); // dLoss/dLogits replaces the logits
        _model.Backward(logits);
        if (_clipNorm > 0f)
        {
            GradientClipping.ClipByGlobalNorm(_model.Gradients, _clipNorm);
        }

        _optimizer.Step(_model.Gradients);
        return (loss, n, correct);
    }
}
