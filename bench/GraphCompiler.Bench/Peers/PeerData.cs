using System.Globalization;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Peers;

/// <summary>What the GraphCompiler side computed on one model's shared weights and inputs, for the report.</summary>
/// <param name="Key">The model's key.</param>
/// <param name="OrtMaxAbsDiff">GraphCompiler against ONNX Runtime (one thread), batch 1 and 64 together.</param>
/// <param name="Losses">The first training step's loss, by batch.</param>
/// <param name="InferenceBytesPerCall">Managed bytes of one batch-64 inference call on the calling thread, after warm-up.</param>
/// <param name="TrainingBytesPerStep">Managed bytes of one training step (forward, loss, backward, SGD) on the calling thread, by batch.</param>
/// <param name="AllCoresInferenceBytesPerCall">The same for a batch-64 inference call through DataParallel on every core.</param>
/// <param name="AllCoresTrainingBytesPerStep">The same for a batch-64 training step through DataParallel on every core.</param>
public sealed record PeerData(
    string Key, double OrtMaxAbsDiff, IReadOnlyDictionary<int, float> Losses, long InferenceBytesPerCall,
    IReadOnlyDictionary<int, long> TrainingBytesPerStep, long AllCoresInferenceBytesPerCall, long AllCoresTrainingBytesPerStep);

/// <summary>
/// Writes what the peers need to run the same computation as GraphCompiler: for one model, the weights of the
/// seeded generated model (<see cref="PeerSeeds.Weights"/>, as every suite creates it) under PyTorch's
/// names and layouts (<c>KEY.weights.safetensors</c>), and the seeded input batch and labels with
/// GraphCompiler's results on them (inference outputs at batch 1 and 64, the loss and the parameter
/// gradients of one training step at batch 1 and 64: <c>KEY.data.safetensors</c>) for the peers to
/// compare with. Checks ONNX Runtime on the way and measures the calling thread's allocations.
/// </summary>
public static class PeerDataWriter
{
    public const int LargeBatch = PeerSeeds.LargeBatch;

    public static PeerData Write<TModel>(SuiteModel<TModel> spec, string folder)
        where TModel : class, ICompiledModel
    {
        TModel model = spec.Create(LargeBatch);
        spec.CheckContract(model);
        Dictionary<string, float[]> parameters = spec.ReadParameters(model.Parameters);

        float[] input = spec.Input(LargeBatch);
        int[] labels = spec.Labels(LargeBatch);

        // The suites create their batch-1 input and labels on their own: they must be the first of these.
        int[] labels1 = spec.Labels(1);
        if (!spec.Input(1).AsSpan().SequenceEqual(input.AsSpan(0, spec.InputLength)) || !labels1.AsSpan().SequenceEqual(labels.AsSpan(0, labels1.Length)))
        {
            throw new InvalidOperationException("The seeded batch-1 input or label is not the first of the batch-64 ones.");
        }

        long[] inputShape = spec.OnnxInputShape(LargeBatch);
        var tensors = new List<SafeTensor>
        {
            new("input_b64", inputShape.Select(d => (int)d).ToArray(), input),
            new("labels_b64", labels.Length == LargeBatch ? [LargeBatch] : [LargeBatch, labels.Length / LargeBatch], labels.Select(l => (float)l).ToArray()),
        };

        byte[] onnx = spec.ToOnnx(model.Parameters);
        double ortDiff = 0;
        foreach (int batch in new[] { 1, LargeBatch })
        {
            float[] output = new float[batch * spec.OutputLength];
            model.Forward(input.AsSpan(0, batch * spec.InputLength), output);
            tensors.Add(new SafeTensor($"gc_output_b{batch}", [batch, spec.OutputLength], output));
            ortDiff = Math.Max(ortDiff, spec.CheckOrt(onnx, input.AsSpan(0, batch * spec.InputLength), output, batch, "GraphCompiler"));
        }

        var losses = new Dictionary<int, float>();
        foreach (int batch in new[] { 1, LargeBatch })
        {
            // A fresh model, so that the gradients are those of the shared weights.
            TModel trainee = spec.Create(batch);
            trainee.Training = true;
            float[] logits = new float[batch * spec.OutputLength];
            trainee.Forward(input.AsSpan(0, batch * spec.InputLength), logits);
            int perSample = labels.Length / LargeBatch;
            float loss = spec.Loss(logits, labels.AsSpan(0, batch * perSample), logits);
            trainee.Backward(logits);
            losses[batch] = loss;
            tensors.Add(new SafeTensor($"gc_loss_b{batch}", [1], new[] { loss }));
            foreach (ParameterInfo info in trainee.Parameters.Layout)
            {
                tensors.Add(new SafeTensor($"gc_grad_b{batch}.{info.Name}", info.Shape, trainee.Gradients.Span.Slice(info.Offset, info.Length).ToArray()));
            }
        }

        // Allocations of the calling thread only (BenchmarkDotNet's figure counts every thread of the process).
        float[] logits64 = new float[LargeBatch * spec.OutputLength];
        long inferenceBytes = Allocations.PerCall(() => model.Forward(input, logits64), calls: 50);
        var trainingBytes = new Dictionary<int, long>();
        foreach (int batch in new[] { 1, LargeBatch })
        {
            TModel stepper = spec.Create(batch);
            stepper.Training = true;
            var sgd = new Sgd(stepper.Parameters, TrainingSettings.LearningRate, TrainingSettings.Momentum);
            float[] x = input[..(batch * spec.InputLength)];
            int[] y = labels[..(batch * (labels.Length / LargeBatch))];
            float[] z = new float[batch * spec.OutputLength];
            trainingBytes[batch] = Allocations.PerCall(
                () =>
                {
                    stepper.Forward(x, z);
                    spec.Loss(z, y, z);
                    stepper.Backward(z);
                    sgd.Step(stepper.Gradients);
                },
                calls: batch == 1 ? 100 : 10);
        }

        long parallelInference, parallelTraining;
        using (var parallel = new DataParallel<TModel>(spec.Create(1).Parameters, spec.Create, LargeBatch))
        {
            var sgd = new Sgd(parallel.Parameters, TrainingSettings.LearningRate, TrainingSettings.Momentum);
            float[] z = new float[LargeBatch * spec.OutputLength];
            parallelInference = Allocations.PerCall(() => parallel.Forward(input, z), calls: 20);
            parallel.Training = true;
            parallelTraining = Allocations.PerCall(
                () =>
                {
                    parallel.Forward(input, z);
                    spec.Loss(z, labels, z);
                    parallel.Backward(z);
                    sgd.Step(parallel.Gradients);
                },
                calls: 10);
        }

        Directory.CreateDirectory(folder);
        SafeTensors.Write(
            Path.Combine(folder, $"{spec.Key}.weights.safetensors"),
            spec.ParameterShapes.Select(p => new SafeTensor(p.Name, p.Shape, parameters[p.Name])),
            new Dictionary<string, string> { ["model"] = spec.Title, ["seed"] = PeerSeeds.Weights.ToString(CultureInfo.InvariantCulture) });
        SafeTensors.Write(
            Path.Combine(folder, $"{spec.Key}.data.safetensors"),
            tensors,
            new Dictionary<string, string>
            {
                ["input_seed"] = PeerSeeds.Input.ToString(CultureInfo.InvariantCulture),
                ["label_seed"] = PeerSeeds.Labels.ToString(CultureInfo.InvariantCulture),
            });
        return new PeerData(spec.Key, ortDiff, losses, inferenceBytes, trainingBytes, parallelInference, parallelTraining);
    }
}
