using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// The seed CNN at batch 64 on one core and on every core through <see cref="DataParallel{TModel}"/>
/// (<see cref="AllCoresSuite{TModel}"/>): inference and a training step. <c>--peers</c> runs the
/// every-core cases beside ONNX Runtime's default threads and PyTorch with 2 threads.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(CnnConfig))]
public class CnnAllCores : AllCoresSuite<MnistCnn>
{
    protected override SuiteModel<MnistCnn> Model => CnnModel.Instance;
}

internal sealed class CnnConfig() : ModelFlopsConfig(CnnModel.Instance);
