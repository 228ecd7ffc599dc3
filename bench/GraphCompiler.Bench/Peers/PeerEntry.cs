using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Peers;

/// <summary>One unit of work of the peers table: inference or a training step of one model at one batch.</summary>
public sealed record Work(PeerEntry Entry, string Kind, int Batch)
{
    public SuiteModel Model => Entry.Model;

    public bool IsInference => Kind == "inference";

    public double Flops => Batch * (IsInference ? Model.FlopsPerSample : Model.TrainingFlopsPerSample);

    public string Title => $"{(IsInference ? "Inference" : "Training step")}, batch {Batch}";

    /// <summary>Bytes of weights streamed per call, for batch-1 inference of a model bound by that.</summary>
    public double? StreamedBytes => IsInference && Batch == 1 ? Model.StreamedBytesPerCall : null;
}

/// <summary>
/// A model in the peers: its description and the three BenchmarkDotNet suites that time its generated
/// code, which follow one shape (<see cref="InferenceSuite{TModel}"/>: methods <c>GraphCompiler</c>,
/// <c>OnnxRuntime</c>, <c>OnnxRuntimeDefaultThreads</c> over <c>Batch</c>; <see cref="TrainingSuite{TModel}"/>:
/// <c>GraphCompiler</c> over <c>Batch</c>; <see cref="AllCoresSuite{TModel}"/>: <c>Inference</c> and
/// <c>TrainingStep</c> over <c>Workers</c>), with what the peers command needs of it. <paramref name="BatchOneCall"/>
/// makes a batch-1 inference call outside BenchmarkDotNet: a fresh seeded workspace, the seeded input and an output
/// array, all made once, so that timing the call allocates nothing (the paired streaming measurement).
/// </summary>
public sealed record PeerEntry(
    SuiteModel Model,
    Type Inference,
    Type Training,
    Type AllCores,
    Func<string, PeerData> WriteData,
    Func<int, TimeSpan, TrainingPhaseTimes> Phases,
    Func<Action> BatchOneCall,
    Func<Work, IReadOnlyList<(string Engine, double Target)>> Targets)
{
    /// <summary>
    /// For a stacked recurrent model: the suite that times its batch-1 input projections alone
    /// (<see cref="RecurrentProjectionsSuite{TModel}"/>), which the report subtracts from the whole call to time the steps.
    /// </summary>
    public Type? Projections { get; init; }

    public static PeerEntry Create<TModel, TInference, TTraining, TAllCores>(
        SuiteModel<TModel> model, Func<Work, IReadOnlyList<(string Engine, double Target)>> targets)
        where TModel : class, ICompiledModel
        where TInference : InferenceSuite<TModel>
        where TTraining : TrainingSuite<TModel>
        where TAllCores : AllCoresSuite<TModel> =>
        new(
            model,
            typeof(TInference),
            typeof(TTraining),
            typeof(TAllCores),
            folder => PeerDataWriter.Write(model, folder),
            (batch, budget) => TrainingPhases.Measure(model, batch, budget),
            () => BatchOne(model),
            targets);

    /// <summary>A batch-1 forward call of a fresh seeded workspace over the seeded input, into its own output array.</summary>
    private static Action BatchOne<TModel>(SuiteModel<TModel> model)
        where TModel : class, ICompiledModel
    {
        TModel workspace = model.Create(1);
        model.CheckContract(workspace);
        float[] input = model.Input(1);
        float[] output = new float[model.OutputLength];
        return () => workspace.Forward(input, output);
    }

    /// <summary>Inference at batch 1 and 64, a training step at the model's training batch (64; the Transformer's 32) and 1.</summary>
    public IReadOnlyList<Work> Works =>
    [
        new(this, "inference", 1),
        new(this, "inference", PeerSeeds.LargeBatch),
        new(this, "training", Model.TrainingBatch),
        new(this, "training", 1),
    ];
}
