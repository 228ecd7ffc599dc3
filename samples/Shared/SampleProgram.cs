using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using GraphCompiler;

namespace Samples.Shared;

/// <summary>
/// The whole job of an MNIST sample: parse the options, fetch the data, train the generated model with a
/// live progress display and a checkpoint after each epoch, evaluate it, reload the checkpoint and check its
/// predictions, measure inference speed, and end with the line "test accuracy: 0.XXXX".
/// </summary>
public static class SampleProgram
{
    /// <summary>Runs the sample; returns the exit code (0 done, 1 failure, 2 bad command line).</summary>
    public static int Main<TModel>(string[] args, SampleDefinition<TModel> sample)
        where TModel : class, ICompiledModel
    {
        Options options;
        try
        {
            options = Options.Parse(args, sample);
        }
        catch (OptionException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine("Run with --help to list the options.");
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(Options.Usage(sample));
            return 0;
        }

        var report = new Report(options.Quiet);
        try
        {
            return Run(sample, options, report);
        }
        catch (SampleException e)
        {
            report.Error(e.Message);
            return 1;
        }
    }

    private static int Run<TModel>(SampleDefinition<TModel> sample, Options options, Report report)
        where TModel : class, ICompiledModel
    {
        long started = Stopwatch.GetTimestamp();
        float lr = options.EffectiveLearningRate;
        string checkpoint = options.EffectiveCheckpoint;
        string datasetName = options.Dataset == DatasetKind.Mnist ? "MNIST" : "Fashion-MNIST";
        string reading = sample.InputDescription is { } d ? $" ({d})" : "";
        string clipping = options.Clipping ? $", gradient norm clipped to {options.ClipNorm!.Value.ToString(CultureInfo.InvariantCulture)}" : "";

        report.Line(
            $"{datasetName}{reading}, {sample.ModelName}: {options.Epochs} epochs, batch {options.BatchSize}, {OptimizerText(options.Optimizer, lr)}{clipping}, " +
            $"seed {options.Seed}; SIMD: {VectorWidth()}, {Environment.ProcessorCount} cores");

        // 1. Data: fetched into the cache on first use, or read from --data.
        long loadStart = Stopwatch.GetTimestamp();
        (LabeledImages train, LabeledImages test, string source) = Data.Load(options, report);
        report.Line(
            $"data: {train.Count:N0} training and {test.Count:N0} test images of {train.Rows}x{train.Columns} from {source} " +
            $"({Stopwatch.GetElapsedTime(loadStart).TotalSeconds:F1} s)");

        // 2. Model, optimizer and schedule; every buffer of the training loop is allocated here.
        TModel model = sample.Create(options.BatchSize, options.Seed);
        if (train.Rows * train.Columns != model.InputLength || test.Rows * test.Columns != model.InputLength)
        {
            throw new SampleException($"the model takes 28x28 images; the data holds {train.Rows}x{train.Columns} and {test.Rows}x{test.Columns}");
        }

        if (!report.Quiet)
        {
            report.Line();
            report.Line(sample.Summary.TrimEnd());
            report.Line();
        }

        TModel evaluator = sample.CreateShared(model.Parameters, 250); // shares the weights, own workspace
        Optimizer optimizer = CreateOptimizer(options.Optimizer, model.Parameters, lr);
        var trainer = new Trainer<TModel>(model, optimizer, train, options.BatchSize, options.Seed, options.Clipping ? options.ClipNorm!.Value : 0f);
        int totalSteps = options.Epochs * trainer.StepsPerEpoch;
        optimizer.Schedule = new WarmupCosineSchedule(lr, Math.Min(100, totalSteps / 10), totalSteps);

        int firstEpoch = 0;
        if (options.Resume is { } resume)
        {
            firstEpoch = Checkpoints.Resume(resume, model.Parameters, optimizer, options, report);
        }

        // 3. Training: one line per epoch, with the test accuracy after it; a checkpoint after each epoch.
        for (int epoch = firstEpoch; epoch < options.Epochs; epoch++)
        {
            EpochStats stats = report.TrainEpoch(trainer, epoch, options.Epochs);
            double testAccuracy = Evaluation.Predict(evaluator, test).Accuracy;
            report.Epoch(stats, options.Epochs, testAccuracy);
            Checkpoints.Save(checkpoint, model.Parameters, optimizer, options, epoch + 1);
        }

        if (firstEpoch >= options.Epochs)
        {
            report.Line($"nothing to train: the checkpoint is at epoch {firstEpoch} of {options.Epochs}");
            Checkpoints.Save(checkpoint, model.Parameters, optimizer, options, firstEpoch);
        }

        // 4. Evaluation on the test set, in inference mode.
        Predictions predictions = Evaluation.Predict(evaluator, test);
        if (!report.Quiet)
        {
            report.Line();
            report.ConfusionMatrix(predictions.ConfusionMatrix(), options.Dataset);
        }

        report.Line(
            $"test set: {predictions.Correct:N0} of {predictions.Count:N0} correct, {predictions.Count - predictions.Correct:N0} errors");

        // 5. The checkpoint, reloaded into a new model (its own parameter set), must predict exactly the same.
        TModel reloaded = sample.CreateShared(Checkpoints.LoadWeights(checkpoint, sample), 250);
        Predictions again = Evaluation.Predict(reloaded, test);
        bool identical = again.IdenticalTo(predictions);
        report.Line($"checkpoint: saved {checkpoint} ({new FileInfo(checkpoint).Length / 1e6:F1} MB: weights and {optimizer.Name} state)");
        report.Line(
            $"checkpoint reloaded into a new model: {(identical ? "identical" : "DIFFERENT")} predictions on {again.Count:N0} test images " +
            "(classes and logits, bit for bit)");

        // 6. Inference speed.
        Timing timing = Evaluation.Measure(sample.CreateShared, model.Parameters, test);
        report.Line(
            $"inference: {timing.MedianMicroseconds / 1000:F3} ms per image at batch 1 (median of {timing.Calls:N0} calls, " +
            $"p99 {timing.P99Microseconds / 1000:F3} ms); {timing.ImagesPerSecond:N0} images/s at batch {timing.ThroughputBatch}");
        report.Line($"total time: {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");

        if (!identical)
        {
            report.Error($"the model reloaded from {checkpoint} predicts differently from the trained one");
            report.Line($"test accuracy: {predictions.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}");
            return 1;
        }

        report.Line($"test accuracy: {predictions.Accuracy.ToString("F4", CultureInfo.InvariantCulture)}");
        return 0;
    }

    private static Optimizer CreateOptimizer(OptimizerKind kind, ParameterSet parameters, float lr) => kind switch
    {
        OptimizerKind.Sgd => new Sgd(parameters, lr, momentum: 0.9f, nesterov: true),
        OptimizerKind.AdamW => new AdamW(parameters, lr, weightDecay: 0.01f),
        _ => new Adam(parameters, lr),
    };

    private static string OptimizerText(OptimizerKind kind, float lr) => kind switch
    {
        OptimizerKind.Sgd => $"SGD (Nesterov momentum 0.9) lr {lr.ToString(CultureInfo.InvariantCulture)}",
        OptimizerKind.AdamW => $"AdamW (weight decay 0.01) lr {lr.ToString(CultureInfo.InvariantCulture)}",
        _ => $"Adam lr {lr.ToString(CultureInfo.InvariantCulture)}",
    } + " with cosine decay";

    private static string VectorWidth() =>
        Vector512.IsHardwareAccelerated ? "512-bit vectors"
        : Vector256.IsHardwareAccelerated ? "256-bit vectors"
        : Vector128.IsHardwareAccelerated ? "128-bit vectors"
        : "scalar";
}
