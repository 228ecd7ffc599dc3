using System.Globalization;
using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Reference;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Suites;

/// <summary>
/// The seed CNN, generated GraphCompiler code (one thread) against ONNX Runtime (one thread, the baseline,
/// and its default thread count, every core), on the same weights (the generated model's seeded default
/// initialization, exported to ONNX) and the same input. The setup checks that the engines agree to
/// <see cref="Check.Tolerance"/> and throws if not. Needs the generated models (<c>WithGeneratedModels</c>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class CnnInference
{
    private MnistCnn? _model;
    private OrtRunner? _ort;
    private OrtRunner? _ortDefault;
    private float[] _output = [];

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CheckContract();
        _model = new MnistCnn(maxBatch: Batch, seed: 0);
        Dictionary<string, float[]> parameters = ReadParameters(_model.Parameters);
        byte[] onnx = CnnOnnx.ToBytes(parameters);
        _ort = OrtCnn.Create(onnx, Batch, intraOpThreads: 1);
        _ortDefault = OrtCnn.Create(onnx, Batch, intraOpThreads: 0);
        SeedCnn.RandomInput(Batch, seed: InputSeed).CopyTo(_ort.Input, 0);
        _ort.Input.CopyTo(_ortDefault.Input, 0);
        _output = new float[Batch * MnistCnn.OutputSize];

        _ort.Run();
        _ortDefault.Run();
        _model.Forward(_ort.Input, _output);
        Check.Agree("GraphCompiler", _output, "ONNX Runtime", _ort.Output, Check.Tolerance);
        Check.Agree("GraphCompiler", _output, "ONNX Runtime (default threads)", _ortDefault.Output, Check.Tolerance);
    }

    /// <summary>The seed of the input batch (<see cref="SeedCnn.RandomInput"/>): the peers read the same.</summary>
    public const int InputSeed = 1;

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

    /// <summary>
    /// For <c>--verify</c>: the generated model against the scalar reference and ONNX Runtime, on its own
    /// seeded parameters, for each batch size; prints the differences and the managed bytes a call
    /// allocates. Returns the largest difference.
    /// </summary>
    public static double Verify(IReadOnlyList<int> batches)
    {
        CheckContract();
        int maxBatch = batches.Max();
        var model = new MnistCnn(maxBatch: maxBatch, seed: 0);
        Dictionary<string, float[]> parameters = ReadParameters(model.Parameters);
        byte[] onnx = CnnOnnx.ToBytes(parameters);
        double worst = 0;
        foreach (int batch in batches)
        {
            float[] input = SeedCnn.RandomInput(batch, seed: batch);
            float[] output = new float[batch * MnistCnn.OutputSize];
            model.Forward(input, output);
            float[] expected = CnnReference.Forward(parameters, input);
            using OrtRunner ort = OrtCnn.Create(onnx, batch, intraOpThreads: 1);
            input.CopyTo(ort.Input, 0);
            ort.Run();
            double vsReference = Check.MaxAbsDiff(output, expected);
            double vsOrt = Check.MaxAbsDiff(output, ort.Output);
            worst = Math.Max(worst, Math.Max(vsReference, vsOrt));
            long bytes = Allocations.PerCall(() => model.Forward(input, output));
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  GraphCompiler     batch {batch,2}  vs reference {vsReference:E3}  vs ORT {vsOrt:E3}  managed bytes/call {bytes}"));
        }

        return worst;
    }

    /// <summary>The generated model's parameters by name, checked against the seed CNN's PyTorch layout.</summary>
    public static Dictionary<string, float[]> ReadParameters(ParameterSet set)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach ((string name, int[] shape) in SeedCnn.Parameters)
        {
            ParameterInfo info = set.Info(name);
            if (!info.Shape.SequenceEqual(shape))
            {
                throw new InvalidOperationException(
                    $"Parameter '{name}' of the generated model has shape {info.ShapeText}; PyTorch's is [{string.Join(", ", shape)}].");
            }

            result.Add(name, set.Read(name).ToArray());
        }

        return result;
    }

    public static void CheckContract()
    {
        if (MnistCnn.InputSize != SeedCnn.InputSize || MnistCnn.OutputSize != SeedCnn.OutputSize)
        {
            throw new InvalidOperationException(
                $"The generated MnistCnn has input/output sizes {MnistCnn.InputSize}/{MnistCnn.OutputSize}, " +
                $"expected {SeedCnn.InputSize}/{SeedCnn.OutputSize}.");
        }
    }

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(b => SeedCnn.FlopsPerImage * (double)(int)b.Parameters["Batch"])
        {
        }
    }
}
