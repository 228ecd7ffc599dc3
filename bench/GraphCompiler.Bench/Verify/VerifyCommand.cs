using System.Globalization;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Reference;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Verify;

/// <summary>
/// <c>--verify</c>: checks the ONNX export and ONNX Runtime against the scalar double-precision reference
/// on seeded PyTorch-default-like weights and random inputs, for several batch sizes, thread counts and
/// both ways of calling the session; prints the max abs difference and the managed bytes each way of
/// calling allocates. With the generated models compiled in, checks the GraphCompiler models as well (the
/// CNN, and the seed LSTM and its GRU twin against their double-precision reference and ONNX Runtime on a
/// PyTorch export, which needs Debian's python3 with PyTorch).
/// </summary>
public static class VerifyCommand
{
    private static readonly int[] Batches = [1, 3, 64];

    public static int Run()
    {
        Console.WriteLine($"Seed CNN: {SeedCnn.FlopsBreakdown}");
        Console.WriteLine($"ONNX Runtime {OrtRunner.Version}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
        Console.WriteLine($"Tolerance: max abs diff <= {Check.Tolerance.ToString("E0", CultureInfo.InvariantCulture)}");
        Console.WriteLine();

        Dictionary<string, float[]> parameters = SeedCnn.RandomParameters(seed: 0);
        byte[] model = CnnOnnx.ToBytes(parameters);
        string modelPath = Path.Combine(AppContext.BaseDirectory, "seed_cnn.onnx");
        File.WriteAllBytes(modelPath, model);
        Console.WriteLine($"ONNX model: {model.Length:N0} bytes, written to {modelPath}");

        double worst = 0;
        foreach (int batch in Batches)
        {
            float[] input = SeedCnn.RandomInput(batch, seed: batch);
            float[] expected = CnnReference.Forward(parameters, input);
            foreach (int threads in new[] { 1, 0 })
            {
                foreach (OrtCallMode mode in Enum.GetValues<OrtCallMode>())
                {
                    using OrtRunner ort = OrtCnn.Create(model, batch, threads, mode);
                    input.CopyTo(ort.Input, 0);
                    ort.Run();
                    double diff = Check.MaxAbsDiff(ort.Output, expected);
                    worst = Math.Max(worst, diff);
                    long bytes = Allocations.PerCall(ort.Run);
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"  ORT vs reference  batch {batch,2}  threads {(threads == 0 ? "default" : "1"),-7}  {mode,-14}  max abs diff {diff:E3}  managed bytes/call {bytes}"));
                }
            }
        }

#if WITH_GENERATED_MODELS
        worst = Math.Max(worst, Suites.CnnInference.Verify(Batches));
        worst = Math.Max(worst, Models.LstmModel.Instance.Verify(Batches));
        worst = Math.Max(worst, Models.GruModel.Instance.Verify(Batches));
#else
        Console.WriteLine("  (GraphCompiler model not compiled in: built with -p:WithGeneratedModels=false; build without it to check it too)");
#endif

        bool ok = worst <= Check.Tolerance;
        Console.WriteLine();
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"max abs diff {worst:E3}: {(ok ? "OK" : "FAILED")} (tolerance {Check.Tolerance:E0})"));
        return ok ? 0 : 1;
    }
}
