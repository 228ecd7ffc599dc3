using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>The seed-size Transformer: generated code (one thread) against ONNX Runtime, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(TransformerConfig))]
public class TransformerInference : InferenceSuite<TransformerWorkspace>
{
    protected override SuiteModel<TransformerWorkspace> Model => TransformerModel.Instance;
}

/// <summary>A training step of the Transformer (negative log-likelihood, padding ignored), one thread, batch 1 and 32.</summary>
[MemoryDiagnoser]
[Config(typeof(TransformerConfig))]
public class TransformerTraining : TrainingSuite<TransformerWorkspace>
{
    protected override SuiteModel<TransformerWorkspace> Model => TransformerModel.Instance;

    public override IEnumerable<int> Batches => [1, TransformerModel.Instance.TrainingBatch];
}

/// <summary>The Transformer at batch 64 on one core and on every core (DataParallel).</summary>
[MemoryDiagnoser]
[Config(typeof(TransformerConfig))]
public class TransformerAllCores : AllCoresSuite<TransformerWorkspace>
{
    protected override SuiteModel<TransformerWorkspace> Model => TransformerModel.Instance;
}

internal sealed class TransformerConfig() : ModelFlopsConfig(TransformerModel.Instance);
