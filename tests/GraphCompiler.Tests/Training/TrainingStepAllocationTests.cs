using System.Diagnostics;
using GraphCompiler.Tests.Models;
using Xunit;
using Xunit.Abstractions;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Training;

/// <summary>The seed's CNN shrunk: two conv + ReLU + max-pool blocks and two linear layers on 12x12 images.</summary>
[Model]
public partial class TinyCnn
{
    [Conv2d(1, 4, Kernel = 3, Padding = 1)] readonly Layer conv1;
    [Conv2d(4, 8, Kernel = 3, Padding = 1)] readonly Layer conv2;
    [MaxPool2d(2)]                          readonly Layer pool;
    [Linear(8 * 3 * 3, 16)]                 readonly Layer fc1;
    [Linear(16, 3)]                         readonly Layer fc2;

    [Forward]
    Tensor Forward([Shape(1, 12, 12)] Tensor x)
    {
        x = pool(Relu(conv1(x)));
        x = pool(Relu(conv2(x)));
        x = Flatten(x);
        x = Relu(fc1(x));
        return fc2(x);
    }
}

/// <summary>
/// A whole training step (forward in training mode, cross-entropy written in place, backward, optimizer update)
/// allocates nothing once warmed up, and a few hundred such steps really learn.
/// </summary>
public class TrainingStepAllocationTests(ITestOutputHelper output)
{
    private const int WarmupSteps = 40;
    private const int SettleSteps = 3;

    public static TheoryData<string, string> Cases => new()
    {
        { "tiny", "sgd" },
        { "tiny", "adam" },
        { "seed", "sgd" },
        { "seed", "adam" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_training_step_allocates_nothing_after_warm_up(string model, string optimizer)
    {
        // The seed CNN at a small batch: it is the model that matters, and the scalar CI run must stay quick.
        TrainingStep step = model == "tiny" ? TinyStep(batch: 16) : SeedStep(batch: 2);
        int measuredSteps = model == "tiny" ? 20 : 5;
        Optimizer opt = CreateOptimizer(optimizer, step.Parameters, schedule: true);
        // Warm up past the runtime's tiering: the call that crosses a method's call-count threshold hands it to
        // the background compiler (which can allocate on the calling thread), and the promotion lands after a
        // short delay; only then does the steady state begin.
        for (int i = 0; i < WarmupSteps; i++)
        {
            step.Run(opt, i);
        }

        Thread.Sleep(300);
        for (int i = 0; i < SettleSteps; i++)
        {
            step.Run(opt, WarmupSteps + i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        float loss = 0f;
        for (int i = 0; i < measuredSteps; i++)
        {
            loss += step.Run(opt, WarmupSteps + SettleSteps + i);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(float.IsFinite(loss), $"loss {loss}");
        Assert.Equal(WarmupSteps + SettleSteps + measuredSteps, opt.StepCount);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void A_few_hundred_steps_on_separable_data_cut_the_loss(string optimizer)
    {
        // Well under a second with SIMD, a few seconds on the scalar path; the time is logged, not asserted.
        var timer = Stopwatch.StartNew();
        const int count = 192;
        const int batch = 16;
        const int steps = 200;
        (float[] images, int[] labels) = Bars(count, seed: 7);
        var model = new TinyCnn(maxBatch: count, seed: 3);
        Optimizer opt = optimizer == "sgd"
            ? new Sgd(model.Parameters, 0.05f, momentum: 0.9f)
            : new Adam(model.Parameters, 3e-3f);
        var sampler = new BatchSampler(images, TinyCnn.InputSize, labels, batch, dropLast: true);
        var x = new float[batch * TinyCnn.InputSize];
        var y = new int[batch];
        var logits = new float[batch * TinyCnn.OutputSize];

        (float initialLoss, float initialAccuracy) = Evaluate(model, images, labels);
        for (int step = 0; step < steps; step++)
        {
            int b = step % sampler.BatchCount;
            if (b == 0)
            {
                sampler.Shuffle(step / sampler.BatchCount);
            }

            sampler.CopyBatch(b, x, y);
            model.Training = true;
            model.Forward(x, logits);
            Losses.CrossEntropy(logits, y, logits);
            model.Backward(logits);
            opt.Step(model.Gradients);
        }

        (float finalLoss, float finalAccuracy) = Evaluate(model, images, labels);
        string report = $"{optimizer}: loss {initialLoss:F4} -> {finalLoss:F4}, accuracy {initialAccuracy:F3} -> {finalAccuracy:F3}";
        output.WriteLine($"{report} in {timer.Elapsed.TotalSeconds:F2} s");
        Assert.True(initialLoss > 0.9f, report); // about ln 3 at the start: nothing learned yet
        Assert.True(finalLoss < 0.2f * initialLoss, report);
        Assert.True(finalAccuracy >= 0.95f, report);
    }

    /// <summary>Mean cross-entropy and accuracy over the whole set, in inference mode.</summary>
    private static (float Loss, float Accuracy) Evaluate(TinyCnn model, float[] images, int[] labels)
    {
        model.Training = false;
        var logits = new float[labels.Length * TinyCnn.OutputSize];
        model.Forward(images, logits);
        float accuracy = Metrics.Accuracy(logits, labels);
        float loss = Losses.CrossEntropy(logits, labels, new float[logits.Length]);
        return (loss, accuracy);
    }

    /// <summary>
    /// Three classes of noisy 12x12 images: a horizontal bar, a vertical bar, or a 3x3 blob, each at a random
    /// place. Linearly inseparable in pixel space (the position varies), easy for a small CNN.
    /// </summary>
    private static (float[] Images, int[] Labels) Bars(int count, int seed)
    {
        var rng = new SeededRandom((ulong)seed);
        var images = new float[count * 144];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            Span<float> image = images.AsSpan(n * 144, 144);
            for (int i = 0; i < 144; i++)
            {
                image[i] = 0.3f * rng.NextNormal();
            }

            int label = n % 3;
            labels[n] = label;
            int a = 1 + rng.NextInt(10);
            int from = rng.NextInt(4);
            switch (label)
            {
                case 0:
                    for (int c = from; c < from + 8; c++)
                    {
                        image[a * 12 + c] += 2f;
                    }

                    break;
                case 1:
                    for (int r = from; r < from + 8; r++)
                    {
                        image[r * 12 + a] += 2f;
                    }

                    break;
                default:
                    int col = 1 + rng.NextInt(9);
                    for (int r = a - 1; r <= a + 1; r++)
                    {
                        for (int c = col - 1; c <= col + 1; c++)
                        {
                            image[r * 12 + c] += 2f;
                        }
                    }

                    break;
            }
        }

        return (images, labels);
    }

    private static Optimizer CreateOptimizer(string kind, ParameterSet parameters, bool schedule)
    {
        Optimizer optimizer = kind == "sgd"
            ? new Sgd(parameters, 0.01f, momentum: 0.9f, weightDecay: 1e-4f, nesterov: true)
            : new Adam(parameters, 1e-3f);
        if (schedule)
        {
            optimizer.Schedule = new WarmupCosineSchedule(1e-3f, warmupSteps: 2, totalSteps: 100);
        }

        return optimizer;
    }

    private static TrainingStep TinyStep(int batch)
    {
        var model = new TinyCnn(maxBatch: batch, seed: 1);
        return new TrainingStep(
            model.Parameters, TinyCnn.InputSize, TinyCnn.OutputSize, batch,
            (x, y) => { model.Training = true; model.Forward(x, y); },
            model.Backward,
            () => model.Gradients);
    }

    private static TrainingStep SeedStep(int batch)
    {
        var model = new SeedCnn(maxBatch: batch, seed: 1);
        return new TrainingStep(
            model.Parameters, SeedCnn.InputSize, SeedCnn.OutputSize, batch,
            (x, y) => { model.Training = true; model.Forward(x, y); },
            model.Backward,
            () => model.Gradients);
    }

    private delegate void ForwardPass(ReadOnlySpan<float> input, Span<float> output);

    private delegate void BackwardPass(ReadOnlySpan<float> outputGrad);

    /// <summary>
    /// One model's training step over preallocated buffers; the delegates are created once, before measuring.
    /// The inputs change from step to step (a rolling window over random data), as a real loop's would.
    /// </summary>
    private sealed class TrainingStep
    {
        private readonly ForwardPass _forward;
        private readonly BackwardPass _backward;
        private readonly Func<AlignedBuffer> _gradients;
        private readonly float[] _data;
        private readonly int[] _labels;
        private readonly float[] _logits;
        private readonly int _inputSize;
        private readonly int _batch;

        public TrainingStep(
            ParameterSet parameters, int inputSize, int outputSize, int batch,
            ForwardPass forward, BackwardPass backward, Func<AlignedBuffer> gradients)
        {
            Parameters = parameters;
            _forward = forward;
            _backward = backward;
            _gradients = gradients;
            _inputSize = inputSize;
            _batch = batch;
            var rng = new SeededRandom(11);
            _data = new float[2 * batch * inputSize];
            for (int i = 0; i < _data.Length; i++)
            {
                _data[i] = rng.NextNormal();
            }

            _labels = new int[2 * batch];
            for (int i = 0; i < _labels.Length; i++)
            {
                _labels[i] = rng.NextInt(outputSize);
            }

            _logits = new float[batch * outputSize];
        }

        public ParameterSet Parameters { get; }

        public float Run(Optimizer optimizer, int step)
        {
            int start = step % _batch;
            ReadOnlySpan<float> x = _data.AsSpan(start * _inputSize, _batch * _inputSize);
            ReadOnlySpan<int> y = _labels.AsSpan(start, _batch);
            _forward(x, _logits);
            Metrics.CountCorrect(_logits, y);
            float loss = Losses.CrossEntropy(_logits, y, _logits, Reduction.Mean, labelSmoothing: 0.1f);
            _backward(_logits);
            GradientClipping.ClipByGlobalNorm(_gradients(), maxNorm: 5f);
            optimizer.Step(_gradients());
            return loss;
        }
    }
}
