using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// One training step of the seed CNN in generated GraphCompiler code (one thread): training-mode forward,
/// cross-entropy (its gradient written over the logits), backward, SGD with momentum. Weights: the
/// generated model's seeded default initialization (seed 0), the same that <see cref="CnnInference"/>
/// and the peers use; input and labels seeded. The weights move with every step, as in training.
/// <c>Allocated</c> is the managed bytes of a whole step (expected: 0). GFLOP/s use
/// <see cref="SeedCnn.TrainingFlopsPerImage"/>. Needs the generated models (<c>WithGeneratedModels</c>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class CnnTraining
{
    /// <summary>Seed of the labels (<see cref="SeedCnn.RandomLabels"/>): the peers read the same.</summary>
    public const int LabelSeed = 2;

    /// <summary>
    /// The optimizer's settings, PyTorch's <c>SGD(lr=1e-5, momentum=0.9)</c>. The learning rate is small on
    /// purpose: a benchmark repeats one batch thousands of times, and with a usual rate (0.01) the model
    /// memorizes it within a few hundred steps, the loss becomes exactly 0 and the momentum buffers then
    /// decay through denormal floats, which slows every engine several times over (a state no real
    /// training run is in). With 1e-5 the loss stays near its starting value and every step does the same
    /// arithmetic on gradients of realistic size.
    /// </summary>
    public const float LearningRate = 1e-5f, Momentum = 0.9f;

    /// <summary>
    /// For the peers report (in-process runs): steps taken and the first and last loss of each batch's
    /// case, recorded at cleanup, to show that the timed steps stayed in a realistic regime.
    /// </summary>
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<int, (long Steps, float FirstLoss, float LastLoss)> Runs = new();

    private MnistCnn? _model;
    private Sgd? _sgd;
    private float[] _input = [];
    private float[] _logits = [];
    private int[] _labels = [];
    private long _steps;
    private float _firstLoss, _lastLoss;

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CnnInference.CheckContract();
        _model = new MnistCnn(maxBatch: Batch, seed: 0) { Training = true };
        _sgd = new Sgd(_model.Parameters, LearningRate, Momentum);
        _input = SeedCnn.RandomInput(Batch, seed: CnnInference.InputSeed);
        _labels = SeedCnn.RandomLabels(Batch, seed: LabelSeed);
        _logits = new float[Batch * MnistCnn.OutputSize];
        _steps = 0;
        _firstLoss = Step();
        if (!float.IsFinite(_firstLoss))
        {
            throw new InvalidOperationException($"The first training step's loss is {_firstLoss}.");
        }
    }

    [Benchmark]
    public float GraphCompiler() => Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        Runs[Batch] = (_steps, _firstLoss, _lastLoss);
        Console.WriteLine($"// CnnTraining batch {Batch}: {_steps} steps, loss {_firstLoss} at the first, {_lastLoss} at the last");
    }

    private float Step()
    {
        MnistCnn model = _model!;
        model.Forward(_input, _logits);
        float loss = Losses.CrossEntropy(_logits, _labels, _logits);
        model.Backward(_logits);
        _sgd!.Step(model.Gradients);
        _steps++;
        _lastLoss = loss;
        return loss;
    }

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(b => SeedCnn.TrainingFlopsPerImage * (double)(int)b.Parameters["Batch"])
        {
        }
    }
}
