// The README's main job: train the seed's CNN on MNIST (or Fashion-MNIST) with the generated forward and
// backward passes, evaluate it, save and reload a checkpoint, and measure inference latency.
//
//   dotnet run -c Release --project samples/Mnist [-- --help]
//
// The last line printed is "test accuracy: 0.XXXX".

using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using GraphCompiler;
using Mnist;

Options options;
try
{
    options = Options.Parse(args);
}
catch (OptionException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("Run with --help to list the options.");
    return 2;
}

if (options.Help)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

var report = new Report(options.Quiet);
try
{
    return Run(options, report);
}
catch (SampleException e)
{
    report.Error(e.Message);
    return 1;
}

static int Run(Options options, Report report)
{
    long started = Stopwatch.GetTimestamp();
    float lr = options.EffectiveLearningRate;
    string checkpoint = options.EffectiveCheckpoint;
    string datasetName = options.Dataset == DatasetKind.Mnist ? "MNIST" : "Fashion-MNIST";

    report.Line(
        $"{datasetName}, seed CNN: {options.Epochs} epochs, batch {options.BatchSize}, {OptimizerText(options.Optimizer, lr)}, " +
        $"seed {options.Seed}; SIMD: {VectorWidth()}, {Environment.ProcessorCount} cores");

    // 1. Data: fetched into the cache on first use, or read from --data.
    long loadStart = Stopwatch.GetTimestamp();
    (LabeledImages train, LabeledImages test, string source) = Data.Load(options, report);
    report.Line(
        $"data: {train.Count:N0} training and {test.Count:N0} test images of {train.Rows}x{train.Columns} from {source} " +
        $"({Stopwatch.GetElapsedTime(loadStart).TotalSeconds:F1} s)");
    if (train.Rows * train.Columns != MnistCnn.InputSize || test.Rows * test.Columns != MnistCnn.InputSize)
    {
        throw new SampleException($"the model takes 28x28 images; the data holds {train.Rows}x{train.Columns} and {test.Rows}x{test.Columns}");
    }

    if (!report.Quiet)
    {
        report.Line();
        report.Line(MnistCnn.Summary.TrimEnd());
        report.Line();
    }

    // 2. Model, optimizer and schedule; every buffer of the training loop is allocated here.
    var model = new MnistCnn(maxBatch: options.BatchSize, seed: options.Seed);
    var evaluator = new MnistCnn(model.Parameters, maxBatch: 250); // shares the weights, own workspace
    Optimizer optimizer = CreateOptimizer(options.Optimizer, model.Parameters, lr);
    var trainer = new Trainer(model, optimizer, train, options.BatchSize, options.Seed);
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
    var reloaded = new MnistCnn(Checkpoints.LoadWeights(checkpoint), maxBatch: 250);
    Predictions again = Evaluation.Predict(reloaded, test);
    bool identical = again.IdenticalTo(predictions);
    report.Line($"checkpoint: saved {checkpoint} ({new FileInfo(checkpoint).Length / 1e6:F1} MB: weights and {optimizer.Name} state)");
    report.Line(
        $"checkpoint reloaded into a new model: {(identical ? "identical" : "DIFFERENT")} predictions on {again.Count:N0} test images " +
        "(classes and logits, bit for bit)");

    // 6. Inference speed.
    Timing timing = Evaluation.Measure(model.Parameters, test);
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

static Optimizer CreateOptimizer(OptimizerKind kind, ParameterSet parameters, float lr) => kind switch
{
    OptimizerKind.Sgd => new Sgd(parameters, lr, momentum: 0.9f, nesterov: true),
    OptimizerKind.AdamW => new AdamW(parameters, lr, weightDecay: 0.01f),
    _ => new Adam(parameters, lr),
};

static string OptimizerText(OptimizerKind kind, float lr) => kind switch
{
    OptimizerKind.Sgd => $"SGD (Nesterov momentum 0.9) lr {lr.ToString(CultureInfo.InvariantCulture)}",
    OptimizerKind.AdamW => $"AdamW (weight decay 0.01) lr {lr.ToString(CultureInfo.InvariantCulture)}",
    _ => $"Adam lr {lr.ToString(CultureInfo.InvariantCulture)}",
} + " with cosine decay";

static string VectorWidth() =>
    Vector512.IsHardwareAccelerated ? "512-bit vectors"
    : Vector256.IsHardwareAccelerated ? "256-bit vectors"
    : Vector128.IsHardwareAccelerated ? "128-bit vectors"
    : "scalar";
