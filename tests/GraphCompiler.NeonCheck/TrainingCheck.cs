using System.Globalization;
using GraphCompiler.Tests.Models;

namespace GraphCompiler.NeonCheck;

/// <summary>
/// End to end on this machine's vector path: a GRU classifier learns a small synthetic task with Adam (the loss must
/// fall and the training set be classified), its checkpoint is saved and loaded into a second, inference-only
/// workspace, and that workspace's predictions one sample at a time equal the batched ones.
/// </summary>
internal static class TrainingCheck
{
    private const int Samples = 24, Steps = 80;

    public static string Run()
    {
        int inputLength = 6 * 5, classes = 4;
        var random = new Random(7);
        var x = new float[Samples * inputLength];
        var labels = new int[Samples];
        for (int s = 0; s < Samples; s++)
        {
            // Class c: feature c (of 5) is high at every step; noise elsewhere.
            labels[s] = s % classes;
            for (int t = 0; t < 6; t++)
            {
                for (int f = 0; f < 5; f++)
                {
                    x[s * inputLength + t * 5 + f] = (f == labels[s] ? 1.5f : 0f) + (float)(random.NextDouble() - 0.5) * 0.5f;
                }
            }
        }

        var model = new GruClassifier(Samples, seed: 3) { Training = true };
        var optimizer = new Adam(model.Parameters, learningRate: 0.02f);
        var logits = new float[Samples * classes];
        float first = 0, last = 0;
        for (int step = 0; step < Steps; step++)
        {
            model.Forward(x, logits);
            float loss = Losses.CrossEntropy(logits, labels, logits, Reduction.Mean);
            first = step == 0 ? loss : first;
            last = loss;
            if (!float.IsFinite(loss))
            {
                throw new CheckFailure($"loss is {loss} at step {step}");
            }

            model.Backward(logits);
            optimizer.Step(model.Gradients);
        }

        if (!(last < 0.25f * first))
        {
            throw new CheckFailure(string.Create(CultureInfo.InvariantCulture, $"loss fell only from {first:F4} to {last:F4} in {Steps} steps"));
        }

        // Save, reload into an inference workspace, predict batched and one by one.
        string path = Path.Combine(Path.GetTempPath(), $"graphcompiler-neoncheck-{Environment.ProcessId}.safetensors");
        var batched = new float[Samples * classes];
        var reloaded = new GruClassifier(Samples, seed: 99);
        try
        {
            Checkpoint.Save(path, model.Parameters, optimizer);
            Checkpoint.Load(path, reloaded.Parameters);
        }
        finally
        {
            File.Delete(path);
        }

        if (!reloaded.Parameters.ReadAll().SequenceEqual(model.Parameters.ReadAll()))
        {
            throw new CheckFailure("the reloaded parameters differ from the saved ones");
        }

        reloaded.Forward(x, batched);
        int correct = 0;
        var one = new float[classes];
        double worst = 0;
        for (int s = 0; s < Samples; s++)
        {
            reloaded.Forward(x.AsSpan(s * inputLength, inputLength), one);
            for (int c = 0; c < classes; c++)
            {
                worst = Math.Max(worst, Math.Abs(one[c] - batched[s * classes + c]) / (1e-5 + 1e-4 * Math.Abs(batched[s * classes + c])));
            }

            correct += ArgMax(one) == labels[s] ? 1 : 0;
        }

        if (worst > 1)
        {
            throw new CheckFailure(string.Create(CultureInfo.InvariantCulture, $"one-sample predictions differ from batched ones: worst |diff| / tolerance {worst:F3}"));
        }

        if (correct < Samples - 1)
        {
            throw new CheckFailure($"only {correct} of {Samples} training samples classified after {Steps} steps");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"GRU, Adam, {Steps} steps: loss {first:F4} -> {last:F4}, {correct}/{Samples} classified after a checkpoint round trip, batch 1 vs {Samples}: {worst:F4} of the tolerance");
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }
}
