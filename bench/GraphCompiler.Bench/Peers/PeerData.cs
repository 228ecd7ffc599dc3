using System.Globalization;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Runners;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Peers;

/// <summary>What the GraphCompiler side computed on the shared weights and inputs, for the report.</summary>
/// <param name="Folder">Where <c>weights.safetensors</c> and <c>data.safetensors</c> were written.</param>
/// <param name="OrtMaxAbsDiff">GraphCompiler against ONNX Runtime (one thread), batch 1 and 64 together.</param>
/// <param name="Losses">The first training step's loss, by batch.</param>
/// <param name="InferenceBytesPerCall">Managed bytes of one batch-64 inference call on the calling thread, after warm-up.</param>
/// <param name="TrainingBytesPerStep">Managed bytes of one training step (forward, loss, backward, SGD) on the calling thread, by batch.</param>
public sealed record PeerData(
    string Folder, double OrtMaxAbsDiff, IReadOnlyDictionary<int, float> Losses, long InferenceBytesPerCall,
    IReadOnlyDictionary<int, long> TrainingBytesPerStep);

/// <summary>
/// Writes what the peers need to run the same computation: the weights of the seeded model (seed 0, as
/// every suite creates it) under PyTorch's names and layouts, the seeded input batch and labels, and
/// GraphCompiler's results on them (inference outputs at batch 1 and 64, the loss and the parameter
/// gradients of one training step at batch 1 and 64) for the peers to compare with.
/// </summary>
public static class PeerDataWriter
{
    public const int LargeBatch = 64;

    public static PeerData Write(string folder)
    {
        CnnInference.CheckContract();
        var model = new MnistCnn(maxBatch: LargeBatch, seed: 0);
        Dictionary<string, float[]> parameters = CnnInference.ReadParameters(model.Parameters);

        float[] input = SeedCnn.RandomInput(LargeBatch, seed: CnnInference.InputSeed);
        int[] labels = SeedCnn.RandomLabels(LargeBatch, seed: CnnTraining.LabelSeed);

        // The suites create their batch-1 input and labels on their own: they must be the first of these.
        if (!SeedCnn.RandomInput(1, CnnInference.InputSeed).AsSpan().SequenceEqual(input.AsSpan(0, SeedCnn.InputSize)) ||
            SeedCnn.RandomLabels(1, CnnTraining.LabelSeed)[0] != labels[0])
        {
            throw new InvalidOperationException("The seeded batch-1 input or label is not the first of the batch-64 ones.");
        }

        var tensors = new List<SafeTensor>
        {
            new("input_b64", [LargeBatch, SeedCnn.InChannels, SeedCnn.Height, SeedCnn.Width], input),
            new("labels_b64", [LargeBatch], labels.Select(l => (float)l).ToArray()),
        };

        byte[] onnx = CnnOnnx.ToBytes(parameters);
        double ortDiff = 0;
        foreach (int batch in new[] { 1, LargeBatch })
        {
            float[] output = new float[batch * MnistCnn.OutputSize];
            model.Forward(input.AsSpan(0, batch * MnistCnn.InputSize), output);
            tensors.Add(new SafeTensor($"gc_output_b{batch}", [batch, MnistCnn.OutputSize], output));

            using OrtRunner ort = OrtCnn.Create(onnx, batch, intraOpThreads: 1);
            input.AsSpan(0, batch * MnistCnn.InputSize).CopyTo(ort.Input);
            ort.Run();
            ortDiff = Math.Max(ortDiff, Check.Agree("GraphCompiler", output, "ONNX Runtime", ort.Output, Check.Tolerance));
        }

        var losses = new Dictionary<int, float>();
        foreach (int batch in new[] { 1, LargeBatch })
        {
            // A fresh model, so that the gradients are those of the shared weights.
            var trainee = new MnistCnn(maxBatch: batch, seed: 0) { Training = true };
            float[] logits = new float[batch * MnistCnn.OutputSize];
            trainee.Forward(input.AsSpan(0, batch * MnistCnn.InputSize), logits);
            float loss = GraphCompiler.Losses.CrossEntropy(logits, labels.AsSpan(0, batch), logits);
            trainee.Backward(logits);
            losses[batch] = loss;
            tensors.Add(new SafeTensor($"gc_loss_b{batch}", [1], new[] { loss }));
            foreach (ParameterInfo info in trainee.Parameters.Layout)
            {
                tensors.Add(new SafeTensor($"gc_grad_b{batch}.{info.Name}", info.Shape, trainee.Gradient(info.Name).ToArray()));
            }
        }

        // Allocations of the calling thread only (BenchmarkDotNet's figure counts every thread of the process).
        float[] logits64 = new float[LargeBatch * MnistCnn.OutputSize];
        long inferenceBytes = Allocations.PerCall(() => model.Forward(input, logits64), calls: 50);
        var trainingBytes = new Dictionary<int, long>();
        foreach (int batch in new[] { 1, LargeBatch })
        {
            var stepper = new MnistCnn(maxBatch: batch, seed: 0) { Training = true };
            var sgd = new Sgd(stepper.Parameters, CnnTraining.LearningRate, CnnTraining.Momentum);
            float[] x = input[..(batch * MnistCnn.InputSize)];
            int[] y = labels[..batch];
            float[] z = new float[batch * MnistCnn.OutputSize];
            trainingBytes[batch] = Allocations.PerCall(
                () =>
                {
                    stepper.Forward(x, z);
                    GraphCompiler.Losses.CrossEntropy(z, y, z);
                    stepper.Backward(z);
                    sgd.Step(stepper.Gradients);
                },
                calls: batch == 1 ? 200 : 20);
        }

        Directory.CreateDirectory(folder);
        SafeTensors.Write(
            Path.Combine(folder, "weights.safetensors"),
            SeedCnn.Parameters.Select(p => new SafeTensor(p.Name, p.Shape, parameters[p.Name])),
            new Dictionary<string, string> { ["model"] = "seed CNN", ["seed"] = "0" });
        SafeTensors.Write(
            Path.Combine(folder, "data.safetensors"),
            tensors,
            new Dictionary<string, string>
            {
                ["input_seed"] = CnnInference.InputSeed.ToString(CultureInfo.InvariantCulture),
                ["label_seed"] = CnnTraining.LabelSeed.ToString(CultureInfo.InvariantCulture),
            });
        return new PeerData(folder, ortDiff, losses, inferenceBytes, trainingBytes);
    }
}
