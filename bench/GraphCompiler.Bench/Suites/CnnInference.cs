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
/// and its default thread count, every core), batch 1 and 64, on the same weights and input
/// (<see cref="InferenceSuite{TModel}"/>). Needs the generated models (<c>WithGeneratedModels</c>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(CnnConfig))]
public class CnnInference : InferenceSuite<MnistCnn>
{
    protected override SuiteModel<MnistCnn> Model => CnnModel.Instance;

    /// <summary>
    /// For <c>--verify</c>: the generated model against the scalar reference and ONNX Runtime, on its own
    /// seeded parameters, for each batch size; prints the differences and the managed bytes a call
    /// allocates. Returns the largest difference.
    /// </summary>
    public static double Verify(IReadOnlyList<int> batches)
    {
        int maxBatch = batches.Max();
        MnistCnn model = CnnModel.Instance.Create(maxBatch);
        CnnModel.Instance.CheckContract(model);
        Dictionary<string, float[]> parameters = CnnModel.Instance.ReadParameters(model.Parameters);
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
}
