using System.Diagnostics;
using System.Runtime.InteropServices;
using GraphCompiler;

namespace Samples.Shared;

/// <summary>The model's logits and predicted classes for every image of a set.</summary>
public sealed class Predictions
{
    public Predictions(float[] logits, int[] classes, int[] labels)
    {
        Logits = logits;
        Classes = classes;
        Labels = labels;
    }

    public float[] Logits { get; }

    public int[] Classes { get; }

    public int[] Labels { get; }

    public int Count => Classes.Length;

    public int Correct
    {
        get
        {
            int correct = 0;
            for (int i = 0; i < Classes.Length; i++)
            {
                correct += Classes[i] == Labels[i] ? 1 : 0;
            }

            return correct;
        }
    }

    public double Accuracy => (double)Correct / Count;

    /// <summary>[true class, predicted class] counts.</summary>
    public int[,] ConfusionMatrix()
    {
        int classes = Logits.Length / Math.Max(1, Count);
        var matrix = new int[classes, classes];
        for (int i = 0; i < Classes.Length; i++)
        {
            matrix[Labels[i], Classes[i]]++;
        }

        return matrix;
    }

    /// <summary>Whether both hold the same classes and bit for bit the same logits.</summary>
    public bool IdenticalTo(Predictions other) =>
        Classes.AsSpan().SequenceEqual(other.Classes) &&
        MemoryMarshal.Cast<float, int>(Logits.AsSpan()).SequenceEqual(MemoryMarshal.Cast<float, int>(other.Logits.AsSpan()));
}

/// <summary>Latency at batch 1 (median and 99th percentile of single calls) and throughput at a larger batch.</summary>
public readonly record struct Timing(double MedianMicroseconds, double P99Microseconds, int Calls, double ImagesPerSecond, int ThroughputBatch);

public static class Evaluation
{
    /// <summary>Runs <paramref name="model"/> (in inference mode) over every image, a workspace-full at a time.</summary>
    public static Predictions Predict<TModel>(TModel model, LabeledImages data)
        where TModel : class, ICompiledModel
    {
        int inputSize = model.InputLength, outputSize = model.OutputLength;
        bool training = model.Training;
        model.Training = false;
        try
        {
            var logits = new float[data.Count * outputSize];
            for (int start = 0; start < data.Count; start += model.MaxBatch)
            {
                int n = Math.Min(model.MaxBatch, data.Count - start);
                model.Forward(
                    data.Images.AsSpan(start * inputSize, n * inputSize),
                    logits.AsSpan(start * outputSize, n * outputSize));
            }

            var classes = new int[data.Count];
            Metrics.ArgMax(logits, classes);
            return new Predictions(logits, classes, data.Labels);
        }
        finally
        {
            model.Training = training;
        }
    }

    /// <summary>
    /// Times single-image calls on a batch-1 workspace (after a warm-up), then whole batches of
    /// <paramref name="batch"/> on another workspace; both in inference mode over the images of <paramref name="data"/>.
    /// </summary>
    public static Timing Measure<TModel>(
        Func<ParameterSet, int, TModel> create, ParameterSet parameters, LabeledImages data, int batch = 64, int calls = 2000, int warmup = 300)
        where TModel : class, ICompiledModel
    {
        TModel single = create(parameters, 1);
        TModel batched = create(parameters, batch);
        int inputSize = single.InputLength, outputSize = single.OutputLength;
        var output = new float[batch * outputSize];
        var times = new double[calls];
        for (int i = 0; i < warmup + calls; i++)
        {
            ReadOnlySpan<float> image = data.Image(i % data.Count);
            long start = Stopwatch.GetTimestamp();
            single.Forward(image, output.AsSpan(0, outputSize));
            long end = Stopwatch.GetTimestamp();
            if (i >= warmup)
            {
                times[i - warmup] = (end - start) * 1e6 / Stopwatch.Frequency;
            }
        }

        Array.Sort(times);
        double median = calls % 2 == 1 ? times[calls / 2] : 0.5 * (times[calls / 2 - 1] + times[calls / 2]);
        double p99 = times[Math.Min(calls - 1, (int)Math.Ceiling(calls * 0.99) - 1)];

        int batches = Math.Max(1, data.Count / batch);
        int images = 0;
        long begin = 0;
        for (int i = -3; i < Math.Min(batches, 60); i++) // three warm-up batches, then up to 60 timed
        {
            if (i == 0)
            {
                begin = Stopwatch.GetTimestamp();
            }

            int at = (Math.Max(i, 0) * batch) % Math.Max(1, data.Count - batch + 1);
            batched.Forward(data.Images.AsSpan(at * inputSize, batch * inputSize), output);
            images += i >= 0 ? batch : 0;
        }

        double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        return new Timing(median, p99, calls, images / seconds, batch);
    }
}
