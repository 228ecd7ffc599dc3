using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Reference;
using GraphCompiler.Bench.Rnn;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// ONNX Runtime alone on the seed LSTM and its GRU twin (exported by <c>torch.onnx.export</c>, which needs
/// Debian's python3 with PyTorch), batch 1 and 64, one thread and its default thread count, with seeded
/// PyTorch-default-like weights, checked against the double-precision reference: the peer's figures,
/// available before the generated recurrent models exist. The side-by-side runs are in <c>--peers</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class OrtRecurrentInference
{
    private OrtRunner? _ort;

    [Params("lstm", "gru")]
    public string Model { get; set; } = "lstm";

    [Params(1, 64)]
    public int Batch { get; set; }

    /// <summary>1: one thread; 0: ONNX Runtime's default (every core).</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    private static SeedRecurrent Spec(string model) => model == "gru" ? SeedRecurrent.Gru : SeedRecurrent.Lstm;

    [GlobalSetup]
    public void Setup()
    {
        SeedRecurrent spec = Spec(Model);
        Dictionary<string, float[]> parameters = spec.RandomParameters(PeerSeeds.Weights);
        byte[] onnx = TorchOnnxExport.ToBytes(spec.Layer, spec.Parameters, parameters);
        _ort = new OrtRunner(onnx, "input", [Batch, SeedRecurrent.Steps, SeedRecurrent.Features], "output", [Batch, SeedRecurrent.Classes], Threads);
        Cnn.SeedCnn.RandomInput(Batch, PeerSeeds.Input).CopyTo(_ort.Input, 0);
        _ort.Run();
        float[] expected = RecurrentReference.Forward(spec, parameters, _ort.Input);
        Check.Agree("ONNX Runtime", _ort.Output, "reference", expected, Check.Tolerance);
    }

    [Benchmark]
    public void OnnxRuntime() => _ort!.Run();

    [GlobalCleanup]
    public void Cleanup() => _ort?.Dispose();

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(b => Spec((string)b.Parameters["Model"]).FlopsPerSample * (double)(int)b.Parameters["Batch"])
        {
        }
    }
}
