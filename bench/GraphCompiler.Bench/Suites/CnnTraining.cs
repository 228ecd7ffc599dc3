using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// One training step of the seed CNN in generated GraphCompiler code (one thread), batch 1 and 64
/// (<see cref="TrainingSuite{TModel}"/>: forward, cross-entropy, backward, SGD with momentum; expected 0 B
/// allocated). GFLOP/s use <see cref="SeedCnn.TrainingFlopsPerImage"/>. Needs the generated models.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(CnnConfig))]
public class CnnTraining : TrainingSuite<MnistCnn>
{
    protected override SuiteModel<MnistCnn> Model => CnnModel.Instance;
}
