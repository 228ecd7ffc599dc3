using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// The seed CNN at batch 64 on one core and on every core: <see cref="DataParallel{TModel}"/> cuts the
/// batch into one slice per worker over the shared parameters (seed 0, the peers' weights) and sums the
/// gradients in worker order. Inference, and a training step as in <see cref="CnnTraining"/> (training
/// forward, cross-entropy, backward, SGD with momentum). Compare with ONNX Runtime's default threads and
/// PyTorch with 2 threads in peers.md.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class CnnAllCores
{
    private const int Batch = 64;
    private DataParallel<MnistCnn>? _parallel;
    private Sgd? _sgd;
    private float[] _input = [];
    private float[] _logits = [];
    private float[] _gradients = [];
    private int[] _labels = [];

    /// <summary>Workers: 1 (the caller's thread only) and one per core.</summary>
    [ParamsSource(nameof(WorkerCounts))]
    public int Workers { get; set; }

    public static IEnumerable<int> WorkerCounts => new[] { 1, Environment.ProcessorCount }.Distinct();

    [GlobalSetup]
    public void Setup()
    {
        var parameters = new MnistCnn(seed: 0).Parameters;
        _parallel = new DataParallel<MnistCnn>(parameters, (p, slice) => new MnistCnn(p, slice), Batch, Workers);
        _sgd = new Sgd(parameters, CnnTraining.LearningRate, CnnTraining.Momentum);
        _input = SeedCnn.RandomInput(Batch, seed: CnnInference.InputSeed);
        _labels = SeedCnn.RandomLabels(Batch, seed: CnnTraining.LabelSeed);
        _logits = new float[Batch * MnistCnn.OutputSize];
        _gradients = new float[Batch * MnistCnn.OutputSize];
    }

    [Benchmark]
    public void Inference()
    {
        _parallel!.Training = false;
        _parallel.Forward(_input, _logits);
    }

    [Benchmark]
    public float TrainingStep()
    {
        DataParallel<MnistCnn> parallel = _parallel!;
        parallel.Training = true;
        parallel.Forward(_input, _logits);
        float loss = Losses.CrossEntropy(_logits, _labels, _gradients);
        parallel.Backward(_gradients);
        _sgd!.Step(parallel.Gradients);
        return loss;
    }

    [GlobalCleanup]
    public void Cleanup() => _parallel?.Dispose();

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(b => Batch * (b.Descriptor.WorkloadMethod.Name == nameof(TrainingStep) ? (double)SeedCnn.TrainingFlopsPerImage : SeedCnn.FlopsPerImage))
        {
        }
    }
}
