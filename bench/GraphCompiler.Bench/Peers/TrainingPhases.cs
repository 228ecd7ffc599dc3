using System.Diagnostics;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Peers;

/// <summary>Median milliseconds of each phase of a GraphCompiler training step.</summary>
/// <param name="Key">The model's key.</param>
/// <param name="Batch">The batch.</param>
/// <param name="ForwardAfterStep">Training-mode forward right after an optimizer step (rebuilds the packed weights first).</param>
/// <param name="Forward">Training-mode forward with unchanged weights (packed copy current).</param>
/// <param name="Loss">The loss (cross-entropy, the Transformer's NLL) and its gradient.</param>
/// <param name="Backward">Backward.</param>
/// <param name="Optimizer">SGD with momentum.</param>
/// <param name="Steps">Steps measured.</param>
public sealed record TrainingPhaseTimes(string Key, int Batch, double ForwardAfterStep, double Forward, double Loss, double Backward, double Optimizer, int Steps)
{
    /// <summary>Rebuilding the packed weight copy after the parameters changed: the difference of the two forwards.</summary>
    public double Repack => Math.Max(0, ForwardAfterStep - Forward);
}

/// <summary>
/// Where a GraphCompiler training step spends its time: a Stopwatch breakdown (medians over steps), for
/// the report's notes. Not the reported time (that is <see cref="TrainingSuite{TModel}"/>, BenchmarkDotNet).
/// </summary>
public static class TrainingPhases
{
    public static TrainingPhaseTimes Measure<TModel>(SuiteModel<TModel> spec, int batch, TimeSpan budget)
        where TModel : class, ICompiledModel
    {
        TModel model = spec.Create(batch);
        model.Training = true;
        var sgd = new Sgd(model.Parameters, TrainingSettings.LearningRate, TrainingSettings.Momentum);
        float[] input = spec.Input(batch);
        int[] labels = spec.Labels(batch);
        float[] logits = new float[batch * spec.OutputLength];
        var afterStep = new List<double>();
        var forward = new List<double>();
        var loss = new List<double>();
        var backward = new List<double>();
        var optimizer = new List<double>();
        long end = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        for (int i = 0; i < 13 || (Stopwatch.GetTimestamp() < end && i < 100_000); i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Forward(input, logits);
            long t1 = Stopwatch.GetTimestamp();
            model.Forward(input, logits);
            long t2 = Stopwatch.GetTimestamp();
            spec.Loss(logits, labels, logits);
            long t3 = Stopwatch.GetTimestamp();
            model.Backward(logits);
            long t4 = Stopwatch.GetTimestamp();
            sgd.Step(model.Gradients);
            long t5 = Stopwatch.GetTimestamp();
            if (i >= 3)
            {
                afterStep.Add(Ms(t1 - t0));
                forward.Add(Ms(t2 - t1));
                loss.Add(Ms(t3 - t2));
                backward.Add(Ms(t4 - t3));
                optimizer.Add(Ms(t5 - t4));
            }
        }

        return new TrainingPhaseTimes(
            spec.Key, batch, Median(afterStep), Median(forward), Median(loss), Median(backward), Median(optimizer), afterStep.Count);
    }

    private static double Ms(long ticks) => ticks * 1e3 / Stopwatch.Frequency;

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[(n / 2) - 1] + values[n / 2]);
    }
}
