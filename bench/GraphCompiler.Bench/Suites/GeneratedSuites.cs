using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Suites;

/// <summary>A <see cref="SuiteModel"/> whose generated GraphCompiler class is compiled in.</summary>
public abstract class SuiteModel<TModel> : SuiteModel
    where TModel : class, ICompiledModel
{
    /// <summary>A workspace with its own parameters, seeded (<see cref="PeerSeeds.Weights"/>) as every suite's.</summary>
    public abstract TModel Create(int maxBatch);

    /// <summary>A workspace over shared parameters.</summary>
    public abstract TModel Create(ParameterSet parameters, int maxBatch);

    /// <summary>Checks the generated class's sizes against the model's.</summary>
    public void CheckContract(TModel model)
    {
        if (model.InputLength != InputLength || model.OutputLength != OutputLength)
        {
            throw new InvalidOperationException(
                $"The generated {Title} has input/output sizes {model.InputLength}/{model.OutputLength}, expected {InputLength}/{OutputLength}.");
        }
    }
}

/// <summary>The suites of one generated model at batch 1 and 64, one thread.</summary>
public abstract class BatchSuite<TModel>
    where TModel : class, ICompiledModel
{
    protected abstract SuiteModel<TModel> Model { get; }

    [ParamsSource(nameof(Batches))]
    public int Batch { get; set; }

    /// <summary>The batches of the suite: 1 and 64 unless a model's training step has its own.</summary>
    public virtual IEnumerable<int> Batches => [1, 64];

    /// <summary>A seeded workspace for <see cref="Batch"/>, its sizes checked.</summary>
    protected TModel CreateModel()
    {
        TModel model = Model.Create(Batch);
        Model.CheckContract(model);
        return model;
    }
}

/// <summary>
/// Inference of a generated model (one thread) against ONNX Runtime (one thread, the baseline, and its
/// default thread count, every core), on the same weights (the generated model's seeded initialization,
/// exported to ONNX) and the same input. The setup checks that the engines agree to
/// <see cref="Infrastructure.Check.Tolerance"/> and throws if not. Subclasses name the model.
/// </summary>
public abstract class InferenceSuite<TModel> : BatchSuite<TModel>
    where TModel : class, ICompiledModel
{
    private TModel? _model;
    private OrtRunner? _ort;
    private OrtRunner? _ortDefault;
    private float[] _output = [];

    [GlobalSetup]
    public void Setup()
    {
        _model = CreateModel();
        byte[] onnx = Model.ToOnnx(_model.Parameters);
        _ort = Model.CreateOrt(onnx, Batch, intraOpThreads: 1);
        _ortDefault = Model.CreateOrt(onnx, Batch, intraOpThreads: 0);
        Model.Input(Batch).CopyTo(_ort.Input, 0);
        _ort.Input.CopyTo(_ortDefault.Input, 0);
        _output = new float[Batch * Model.OutputLength];

        _ort.Run();
        _ortDefault.Run();
        _model.Forward(_ort.Input, _output);
        Infrastructure.Check.Agree("GraphCompiler", _output, "ONNX Runtime", _ort.Output, Infrastructure.Check.Tolerance);
        Infrastructure.Check.Agree("GraphCompiler", _output, "ONNX Runtime (default threads)", _ortDefault.Output, Infrastructure.Check.Tolerance);
    }

    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _ort!.Run();

    /// <summary>ONNX Runtime with its default intra-op thread count (one per physical core).</summary>
    [Benchmark]
    public void OnnxRuntimeDefaultThreads() => _ortDefault!.Run();

    [Benchmark]
    public void GraphCompiler() => _model!.Forward(_ort!.Input, _output);

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort?.Dispose();
        _ortDefault?.Dispose();
    }
}

/// <summary>
/// One training step of a generated model on one thread: training-mode forward, the model's loss (cross-entropy
/// by default; its gradient written over the output), backward, SGD with momentum (<see cref="TrainingSettings"/>). Seeded weights,
/// input and labels, as the peers'. The weights move with every step, as in training. <c>Allocated</c> is
/// the managed bytes of a whole step (expected: 0).
/// </summary>
public abstract class TrainingSuite<TModel> : BatchSuite<TModel>
    where TModel : class, ICompiledModel
{
    private TModel? _model;
    private Sgd? _sgd;
    private float[] _input = [];
    private float[] _logits = [];
    private int[] _labels = [];
    private long _steps;
    private float _firstLoss, _lastLoss;

    [GlobalSetup]
    public void Setup()
    {
        _model = CreateModel();
        _model.Training = true;
        _sgd = new Sgd(_model.Parameters, TrainingSettings.LearningRate, TrainingSettings.Momentum);
        _input = Model.Input(Batch);
        _labels = Model.Labels(Batch);
        _logits = new float[Batch * Model.OutputLength];
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
        TrainingSettings.Runs[(Model.Key, Batch, 1)] = new TrainingRun(_steps, _firstLoss, _lastLoss);
        Console.WriteLine($"// {GetType().Name} batch {Batch}: {_steps} steps, loss {_firstLoss} at the first, {_lastLoss} at the last");
    }

    private float Step()
    {
        TModel model = _model!;
        model.Forward(_input, _logits);
        float loss = Model.Loss(_logits, _labels, _logits);
        model.Backward(_logits);
        _sgd!.Step(model.Gradients);
        _steps++;
        _lastLoss = loss;
        return loss;
    }
}

/// <summary>
/// A generated model at batch <see cref="PeerSeeds.LargeBatch"/> on one core and on every core:
/// <see cref="DataParallel{TModel}"/> cuts the batch into one slice per worker over the shared parameters
/// (seeded as every suite's) and sums the gradients in worker order. Inference, and a training step as in
/// <see cref="TrainingSuite{TModel}"/>. A batch of 1 cannot be split, so there is no batch-1 case.
/// </summary>
public abstract class AllCoresSuite<TModel>
    where TModel : class, ICompiledModel
{
    private DataParallel<TModel>? _parallel;
    private Sgd? _sgd;
    private float[] _input = [];
    private float[] _logits = [];
    private float[] _gradients = [];
    private int[] _labels = [];
    private long _steps;
    private float _firstLoss, _lastLoss;

    protected abstract SuiteModel<TModel> Model { get; }

    /// <summary>The whole batch of every call.</summary>
    public static int Batch => PeerSeeds.LargeBatch;

    /// <summary>Workers: 1 (the caller's thread only) and one per core.</summary>
    [ParamsSource(nameof(WorkerCounts))]
    public int Workers { get; set; }

    public static IEnumerable<int> WorkerCounts => new[] { 1, Environment.ProcessorCount }.Distinct();

    [GlobalSetup]
    public void Setup()
    {
        SuiteModel<TModel> spec = Model;
        ParameterSet parameters = spec.Create(1).Parameters;
        _parallel = new DataParallel<TModel>(parameters, spec.Create, Batch, Workers);
        spec.CheckContract(_parallel.Models[0]);
        _sgd = new Sgd(parameters, TrainingSettings.LearningRate, TrainingSettings.Momentum);
        _input = spec.Input(Batch);
        _labels = spec.Labels(Batch);
        _logits = new float[Batch * spec.OutputLength];
        _gradients = new float[Batch * spec.OutputLength];
        _steps = 0;
        _firstLoss = float.NaN;
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
        SuiteModel<TModel> spec = Model;
        DataParallel<TModel> parallel = _parallel!;
        parallel.Training = true;
        parallel.Forward(_input, _logits);
        float loss = spec.Loss(_logits, _labels, _gradients);
        parallel.Backward(_gradients);
        _sgd!.Step(parallel.Gradients);
        if (_steps++ == 0)
        {
            _firstLoss = loss;
        }

        _lastLoss = loss;
        return loss;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_steps > 0)
        {
            TrainingSettings.Runs[(Model.Key, Batch, Workers)] = new TrainingRun(_steps, _firstLoss, _lastLoss);
        }

        _parallel?.Dispose();
        _parallel = null;
    }
}

/// <summary>
/// The columns of a model's suites: GFLOP/s and % of peak from the model's FLOP per sample, times the case's
/// batch (<see cref="PeerSeeds.LargeBatch"/> for the all-cores suites), for a forward pass or a training
/// step (<see cref="TrainingSuite{TModel}"/> and <see cref="AllCoresSuite{TModel}.TrainingStep"/>).
/// </summary>
public class ModelFlopsConfig(SuiteModel model) : Infrastructure.FlopsConfig(b => Flops(model, b))
{
    private static double Flops(SuiteModel model, BenchmarkDotNet.Running.BenchmarkCase b)
    {
        int batch = b.Parameters.Items.Any(p => p.Name == "Batch") ? (int)b.Parameters["Batch"] : PeerSeeds.LargeBatch;
        bool training = IsTraining(b.Descriptor.Type) || b.Descriptor.WorkloadMethod.Name == "TrainingStep";
        return batch * (training ? model.TrainingFlopsPerSample : model.FlopsPerSample);
    }

    private static bool IsTraining(Type? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(TrainingSuite<>))
            {
                return true;
            }
        }

        return false;
    }
}
