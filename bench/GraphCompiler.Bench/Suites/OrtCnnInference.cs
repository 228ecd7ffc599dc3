using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Reference;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// ONNX Runtime alone on the seed CNN, one thread and its default thread count, with seeded
/// PyTorch-default-like weights: the peer's figures on this machine, available before the generated
/// model exists. The side-by-side runs with the generated model are <c>CnnInference</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class OrtCnnInference
{
    private OrtRunner? _ort;

    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>1: one thread; 0: ONNX Runtime's default (every core).</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Dictionary<string, float[]> parameters = SeedCnn.RandomParameters(seed: 0);
        _ort = OrtCnn.Create(CnnOnnx.ToBytes(parameters), Batch, Threads);
        SeedCnn.RandomInput(Batch, seed: 1).CopyTo(_ort.Input, 0);
        _ort.Run();
        float[] expected = CnnReference.Forward(parameters, _ort.Input);
        Check.Agree("ONNX Runtime", _ort.Output, "reference", expected, Check.Tolerance);
    }

    [Benchmark]
    public void OnnxRuntime() => _ort!.Run();

    [GlobalCleanup]
    public void Cleanup() => _ort?.Dispose();

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(b => SeedCnn.FlopsPerImage * (double)(int)b.Parameters["Batch"])
        {
        }
    }
}
