using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using GraphCompiler.NeonCheck;

// The numerics checks for a machine (or an emulator) that CI cannot run the test suite on: the golden cases
// from PyTorch (forward, loss, every gradient) and the SIMD nonlinearities, on this process's vector width.
//
//   GraphCompiler.NeonCheck [--require-advsimd] [--all] [--golden DIR] [case ...]
//
// Prints one line per check and ends with "N passed, M failed"; the exit code is 1 when any check failed.
// --require-advsimd turns "AdvSimd is not hardware-accelerated" into a failed check (the arm64 run passes it).

var options = Options.Parse(args);
var checks = new Checks();
var clock = Stopwatch.StartNew();

Console.WriteLine($"architecture: {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}");
Console.WriteLine($"AdvSimd.IsSupported={AdvSimd.IsSupported} AdvSimd.Arm64.IsSupported={AdvSimd.Arm64.IsSupported} " +
                  $"Vector128.IsHardwareAccelerated={Vector128.IsHardwareAccelerated} Vector256.IsHardwareAccelerated={Vector256.IsHardwareAccelerated} " +
                  $"Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}");
Console.WriteLine($"generated kernels take the {Platform.VectorWidth} path");

checks.Run("vector path", () =>
{
    if (!options.RequireAdvSimd)
    {
        return $"{Platform.VectorWidth} (AdvSimd not required)";
    }

    if (!AdvSimd.IsSupported || !Vector128.IsHardwareAccelerated)
    {
        throw new CheckFailure($"AdvSimd is not hardware-accelerated (AdvSimd.IsSupported={AdvSimd.IsSupported}, Vector128.IsHardwareAccelerated={Vector128.IsHardwareAccelerated})");
    }

    if (Vector256.IsHardwareAccelerated)
    {
        throw new CheckFailure("Vector256 is accelerated: the generated kernels would not take the Vector128 path");
    }

    return "AdvSimd used: the generated kernels take the Vector128 path";
});

checks.Run("VectorMath sigmoid/tanh within bounds", NonlinearityCheck.Run);
checks.Run("training end to end", TrainingCheck.Run);

foreach (string name in options.Cases)
{
    checks.Run($"golden {name}", () => GoldenCheck.Run(name, options.GoldenDirectory));
}

checks.Run("golden TinyTransformer (tokens, masks, every gradient)", () => TransformerGoldenCheck.Run(options.GoldenDirectory));

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"checks took {clock.Elapsed.TotalSeconds:F1} s"));
Console.WriteLine($"{checks.Passed} passed, {checks.Failed} failed");
return checks.Failed == 0 ? 0 : 1;

namespace GraphCompiler.NeonCheck
{
    internal sealed class CheckFailure(string message) : Exception(message);

    internal static class Platform
    {
        /// <summary>The path the generated kernels choose, by the same tests in the same order.</summary>
        public static string VectorWidth =>
            Vector512.IsHardwareAccelerated ? "512-bit" :
            Vector256.IsHardwareAccelerated ? "256-bit" :
            Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
    }

    internal sealed class Checks
    {
        public int Passed { get; private set; }

        public int Failed { get; private set; }

        /// <summary>Runs one check: it returns a detail line, or throws (any exception is a failure, never a crash).</summary>
        public void Run(string name, Func<string> check)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                string detail = check();
                Passed++;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PASS {name}: {detail} ({clock.Elapsed.TotalSeconds:F1} s)"));
            }
            catch (Exception e)
            {
                Failed++;
                string message = e is CheckFailure ? e.Message : e.ToString();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FAIL {name} ({clock.Elapsed.TotalSeconds:F1} s): {message}"));
            }
        }
    }

    internal sealed record Options(bool RequireAdvSimd, string GoldenDirectory, IReadOnlyList<string> Cases)
    {
        /// <summary>
        /// The default selection: the seed's CNN (batch 3), an LSTM and a GRU classifier, and a GRU and an LSTM with
        /// the odd features (no bias, initial states, final states), plus a few single ops whose tails are not whole vectors.
        /// </summary>
        public static readonly string[] DefaultCases =
        [
            "SeedCnn", "LstmClassifier", "GruClassifier", "LstmInitialStates", "GruSequenceNoBias",
            "StridedDilatedConv", "PoolingMix", "ElementwiseAndReshape", "Linear37To19", "SoftmaxRows",
        ];

        public static Options Parse(string[] args)
        {
            bool requireAdvSimd = false, all = false;
            string golden = Path.Combine(AppContext.BaseDirectory, "golden");
            var cases = new List<string>();
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--require-advsimd": requireAdvSimd = true; break;
                    case "--all": all = true; break;
                    case "--golden" when i + 1 < args.Length: golden = args[++i]; break;
                    default: cases.Add(args[i]); break;
                }
            }

            if (all)
            {
                cases = GoldenCheck.CaseNames.ToList();
            }
            else if (cases.Count == 0)
            {
                cases = DefaultCases.ToList();
            }

            return new Options(requireAdvSimd, golden, cases);
        }
    }
}
