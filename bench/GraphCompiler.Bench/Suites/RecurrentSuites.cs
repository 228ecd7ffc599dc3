using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>The seed LSTM: generated code (one thread) against ONNX Runtime, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmInference : InferenceSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>A training step of the seed LSTM, one thread, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmTraining : TrainingSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>The seed LSTM at batch 64 on one core and on every core (DataParallel).</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmAllCores : AllCoresSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>The GRU of the seed LSTM's shape: generated code (one thread) against ONNX Runtime, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruInference : InferenceSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

/// <summary>A training step of the GRU, one thread, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruTraining : TrainingSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

/// <summary>The GRU at batch 64 on one core and on every core (DataParallel).</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruAllCores : AllCoresSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

internal sealed class LstmConfig() : ModelFlopsConfig(LstmModel.Instance);

internal sealed class GruConfig() : ModelFlopsConfig(GruModel.Instance);
