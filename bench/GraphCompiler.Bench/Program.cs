using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Runners;
using GraphCompiler.Bench.Verify;

namespace GraphCompiler.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/GraphCompiler.Bench -- [options]</c>
/// <list type="bullet">
/// <item><c>--peers [--job short]</c>: GraphCompiler, ONNX Runtime and PyTorch side by side; writes <c>bench/results/peers.md</c>.</item>
/// <item><c>--verify</c>: check ONNX Runtime (and the generated model, when compiled in) against the scalar reference.</item>
/// <item><c>--quick [--rnn | --rnn-only]</c>: a few seconds of Stopwatch timing of the CNN engines (and the recurrent models, with a per-kernel breakdown at batch 1 beside the L2 read bandwidth), minimum and median (at batch 1 also the 90th percentile and the mean, which show the machine's interruptions), not reportable.</item>
/// <item><c>--peak</c>: print the quick single-core FMA peak per vector width and exit.</item>
/// <item><c>--bandwidth</c>: print the quick single-core read bandwidth per buffer size (L1, L2, beyond), and by read pattern over two 256 KiB blocks, and exit.</item>
/// <item><c>--save-results</c>: after the run, write each suite's table to <c>bench/results/&lt;suite&gt;.md</c>.</item>
/// <item>anything else goes to BenchmarkDotNet's switcher (<c>--filter *PeakFma*</c>, <c>--job short</c>, <c>--list flat</c>...).</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        MachineInfo.CaptureStart();
        if (args.Contains("--verify"))
        {
            return VerifyCommand.Run();
        }

#if WITH_GENERATED_MODELS
        if (args.Contains("--peers"))
        {
            return Peers.PeersCommand.Run(args);
        }
#else
        if (args.Contains("--peers"))
        {
            Console.Error.WriteLine("--peers needs the generated models: build without -p:WithGeneratedModels=false.");
            return 1;
        }
#endif

        if (args.Contains("--quick"))
        {
            return QuickTiming.Run(args);
        }

        if (args.Contains("--peak"))
        {
            Console.WriteLine($"Single-core FMA peak: {MachinePeak.Measure(TimeSpan.FromMilliseconds(200))}");
            return 0;
        }

        if (args.Contains("--bandwidth"))
        {
            Console.WriteLine($"Caches (CPUID): {CacheInfo.Text}");
            foreach (int kib in new[] { 16, 256, 512, 8192 })
            {
                double gbs = Bandwidth.ReadBuffer.MeasureGigabytesPerSecond(kib * 1024, TimeSpan.FromMilliseconds(300));
                Console.WriteLine(string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"Read bandwidth, {kib,5} KiB buffer, {Bandwidth.ReadKernels.WidestName} loads: {gbs,6:F1} GB/s"));
            }

            Bandwidth.ReadPatterns.Print();
            return 0;
        }

        bool save = args.Contains("--save-results");
        string[] bdnArgs = args.Where(a => a != "--save-results").ToArray();

        // BenchmarkDotNet builds this project again for its benchmark processes; the environment carries
        // the property into those builds, so that they compile (or leave out) the generated models too.
#if WITH_GENERATED_MODELS
        Environment.SetEnvironmentVariable("WithGeneratedModels", "true");
#else
        Environment.SetEnvironmentVariable("WithGeneratedModels", "false");
#endif

        PeakFigures? peak = null;
        if (!IsInformationalOnly(bdnArgs))
        {
            peak = MachinePeak.Current;
            Console.WriteLine($"// Single-core FMA peak at startup: {peak}");
            Console.WriteLine($"// Seed CNN: {SeedCnn.FlopsBreakdown}");
        }

        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(bdnArgs);
        List<Summary> list = summaries.ToList();
        if (save && list.Count > 0)
        {
            string command = "dotnet run -c Release --project bench/GraphCompiler.Bench "
#if !WITH_GENERATED_MODELS
                + "-p:WithGeneratedModels=false "
#endif
                + "-- " + string.Join(" ", args.Select(a => a.Contains('*') ? "'" + a + "'" : a));
            ResultsWriter.Write(list, command, OrtRunner.Version, peak);
        }

        return list.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static bool IsInformationalOnly(string[] args) =>
        args.Any(a => a is "--list" or "--help" or "-h" or "--version" or "--info");
}
