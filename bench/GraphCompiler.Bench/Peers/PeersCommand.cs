using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using GraphCompiler.Bench.Bandwidth;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;
using GraphCompiler.Bench.Suites;
using Perfolizer.Horology;

namespace GraphCompiler.Bench.Peers;

/// <summary>
/// The L2 read bandwidth (GB/s) over the buffer sizes of one and two LSTM layers' recurrent weights (256 and 512 KiB):
/// measured at startup (Stopwatch, best slice), and by the <see cref="L2Bandwidth"/> suite in the same
/// BenchmarkDotNet run as the models (<see cref="Suite"/>), which is the yardstick of the streaming target.
/// </summary>
public sealed record L2Figures(double OneLayer, double TwoLayers)
{
    public L2Suite? Suite { get; init; }
}

/// <summary>
/// The <see cref="L2Bandwidth"/> suite's figures in GB/s: at its median and at its fastest iteration, per buffer size.
/// The yardstick is the larger of the two sizes (the machine reads 256 KiB again and again more slowly than 512 KiB).
/// </summary>
public sealed record L2Suite(double OneLayerMedian, double TwoLayersMedian, double OneLayerBest, double TwoLayersBest)
{
    public double Median => Math.Max(OneLayerMedian, TwoLayersMedian);

    public double Best => Math.Max(OneLayerBest, TwoLayersBest);
}

/// <summary>
/// <c>--peers [--job short] [--models cnn,lstm,gru,transformer]</c>: GraphCompiler against ONNX Runtime (one thread and its
/// default) and PyTorch (1 and 2 threads) in one invocation, on the same weights and inputs, for every model
/// the project supports: inference at batch 1 and 64, one training step at batch 64 and 1, each on one
/// thread and on every core (GraphCompiler through <see cref="DataParallel{TModel}"/>). GraphCompiler and
/// ONNX Runtime are timed by BenchmarkDotNet in this process, PyTorch by <c>bench/peers/torch_bench.py</c>
/// with the same method. Prints the tables and writes them to <c>bench/results/peers.md</c> (or, with
/// <c>--models</c>, to <c>peers-KEYS.md</c>, so that a partial run never replaces the full table).
/// </summary>
public static class PeersCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Every model of the peers table, in order.</summary>
    public static IReadOnlyList<PeerEntry> Entries =>
    [
        PeerEntry.Create<MnistCnn, CnnInference, CnnTraining, CnnAllCores>(CnnModel.Instance, CnnTargets),
        PeerEntry.Create<SeedRnn, LstmInference, LstmTraining, LstmAllCores>(LstmModel.Instance, RecurrentTargets) with { Projections = typeof(LstmProjections) },
        PeerEntry.Create<SeedGru, GruInference, GruTraining, GruAllCores>(GruModel.Instance, RecurrentTargets) with { Projections = typeof(GruProjections) },
        PeerEntry.Create<TransformerWorkspace, TransformerInference, TransformerTraining, TransformerAllCores>(TransformerModel.Instance, TransformerTargets),
    ];

    /// <summary>The notes' Transformer targets: 3x ONNX Runtime and 5x PyTorch at batch 1, 2x PyTorch's training step (batch 32).</summary>
    private static IReadOnlyList<(string, double)> TransformerTargets(Work work) =>
        work.IsInference
            ? work.Batch == 1 ? [("ONNX Runtime", 3.0), ("PyTorch", 5.0)] : []
            : [("PyTorch", 2.0)];

    /// <summary>The performance notes' targets: as fast as ONNX Runtime, 5x PyTorch at batch 1, 2x its training step.</summary>
    private static IReadOnlyList<(string, double)> CnnTargets(Work work) =>
        work.IsInference
            ? work.Batch == 1 ? [("ONNX Runtime", 1.0), ("PyTorch", 5.0)] : [("ONNX Runtime", 1.0)]
            : [("PyTorch", 2.0)];

    /// <summary>
    /// The notes' LSTM targets: 1.3x ONNX Runtime at batch 1 (with the weight streaming at 70% of the L2
    /// bandwidth, which the report adds), 5x PyTorch at batch 1, 2x its training step; none at batch-64 inference.
    /// </summary>
    private static IReadOnlyList<(string, double)> RecurrentTargets(Work work) =>
        work.IsInference
            ? work.Batch == 1 ? [("ONNX Runtime", 1.3), ("PyTorch", 5.0)] : []
            : [("PyTorch", 2.0)];

    public static int Run(string[] args)
    {
        bool quick = Option(args, "--job")?.ToLowerInvariant() is "short" or "dry";
        string command = "dotnet run -c Release --project bench/GraphCompiler.Bench -- " + string.Join(" ", args);
        var loads = new List<(string Phase, string Load)> { ("start", MachineInfo.LoadAverage) };
        IReadOnlyList<PeerEntry> entries = Entries;
        string? only = Option(args, "--models");
        if (only is not null)
        {
            string[] keys = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            entries = entries.Where(e => keys.Contains(e.Model.Key, StringComparer.OrdinalIgnoreCase)).ToArray();
            if (entries.Count == 0)
            {
                Console.Error.WriteLine($"--models: none of '{only}' is a model of the peers ({string.Join(", ", Entries.Select(e => e.Model.Key))}).");
                return 2;
            }
        }

        PeakFigures peak = MachinePeak.Current;
        Console.WriteLine($"// Single-core FMA peak at startup: {peak}");
        L2Figures? l2 = null;
        if (entries.Any(e => e.Model.StreamedBytesPerCall is not null))
        {
            l2 = new L2Figures(
                ReadBuffer.MeasureGigabytesPerSecond(256 * 1024, TimeSpan.FromMilliseconds(300)),
                ReadBuffer.MeasureGigabytesPerSecond(512 * 1024, TimeSpan.FromMilliseconds(300)));
            Console.WriteLine(string.Create(Inv, $"// L2 read bandwidth at startup: {l2.OneLayer:F1} GB/s (256 KiB), {l2.TwoLayers:F1} GB/s (512 KiB)"));
        }

        foreach (PeerEntry e in entries)
        {
            Console.WriteLine($"// {e.Model.Title} forward: {e.Model.FlopsBreakdown}");
            Console.WriteLine($"// {e.Model.Title} training step: {e.Model.TrainingFlopsBreakdown}");
        }

        DirectoryInfo folder = Directory.CreateTempSubdirectory("graphcompiler-peers-");
        try
        {
            var data = new List<PeerData>();
            foreach (PeerEntry e in entries)
            {
                PeerData d = e.WriteData(folder.FullName);
                data.Add(d);
                Console.WriteLine(string.Create(Inv, $"// {e.Model.Title}: shared weights and inputs written to {folder.FullName}; GraphCompiler vs ONNX Runtime max abs diff {d.OrtMaxAbsDiff:0.00e+00}"));
            }

            // 1. GraphCompiler and ONNX Runtime: BenchmarkDotNet, in this process.
            Type[] suites = entries.SelectMany(e => Environment.ProcessorCount > 1 ? new[] { e.Inference, e.Training, e.AllCores } : [e.Inference, e.Training])
                .Concat(l2 is null ? [] : entries.Where(e => e.Projections is { } p && Runs(p)).Select(e => e.Projections!).Append(typeof(L2Bandwidth))).ToArray();
            Summary[] summaries = BenchmarkRunner.Run(suites, Config(quick));
            loads.Add(("after GraphCompiler and ONNX Runtime", MachineInfo.LoadAverage));
            BenchmarkReport[] failed = summaries.SelectMany(s => s.Reports).Where(r => !r.Success || r.ResultStatistics is null).ToArray();
            if (summaries.Any(s => s.HasCriticalValidationErrors) || failed.Length > 0 || summaries.All(s => s.Reports.Length == 0))
            {
                Console.Error.WriteLine("Some benchmarks failed or did not run: no peers table written.");
                return 1;
            }

            if (l2 is not null)
            {
                l2 = l2 with { Suite = L2FromSuite(summaries) };
            }

            // The streaming target's verdict: each streaming model's batch-1 call timed in alternation with the L2 read
            // kernel (BenchmarkDotNet times the two minutes apart, and the machine's speed changes over minutes).
            var paired = new Dictionary<string, PairedStreamingFigures>();
            if (l2 is not null)
            {
                foreach (PeerEntry e in entries)
                {
                    if (e.Model.StreamedBytesPerCall is double bytes)
                    {
                        PairedStreamingFigures figures = PairedStreaming.Measure(
                            e.BatchOneCall(), bytes, PeersReport.ProjectionFloorNs(e.Model, peak), TimeSpan.FromSeconds(quick ? 0.5 : 3));
                        paired[e.Model.Key] = figures;
                        Console.WriteLine($"// {e.Model.Title} at batch 1 timed in alternation with the L2 read kernel: {figures}");
                    }
                }
            }

            // Where GraphCompiler's training step spends its time (a Stopwatch breakdown for the notes).
            var phases = new List<TrainingPhaseTimes>();
            foreach (PeerEntry e in entries)
            {
                phases.Add(e.Phases(1, TimeSpan.FromSeconds(quick ? 0.5 : 2)));
                phases.Add(e.Phases(e.Model.TrainingBatch, TimeSpan.FromSeconds(quick ? 0.5 : 2)));
            }

            // 2. PyTorch: its own process, after ours (the two would compete for the cores otherwise).
            int[] threads = new[] { 1, Environment.ProcessorCount }.Distinct().ToArray();
            TorchReport torch = TorchPeer.Run(TorchScript.Script, folder.FullName, quick, entries.Select(e => e.Model.Key).ToArray(), threads);
            loads.Add(("after PyTorch", MachineInfo.LoadAverage));
            if (torch.Available && !torch.ChecksPassed)
            {
                Console.Error.WriteLine("PyTorch does not compute what GraphCompiler computes (see the checks above): no peers table written.");
                return 1;
            }

            var run = new PeersRun(entries, summaries, torch, data, phases, peak, l2, command, loads, quick) { Paired = paired };
            string markdown = PeersReport.Write(run);
            string name = only is null ? "peers.md" : $"peers-{string.Join("-", entries.Select(e => e.Model.Key))}.md";
            string path = Path.Combine(ResultsWriter.ResultsDirectory(), name);
            File.WriteAllText(path, markdown);
            Console.WriteLine();
            Console.WriteLine(markdown);
            Console.WriteLine($"Results written to {path}");
            return 0;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Whether a <see cref="RecurrentProjectionsSuite{TModel}"/> can run in this process: its kernels exist at this vector
    /// width (the scalar path has no batch-1 wavefront, so no blocks to time; the report then goes without them).
    /// </summary>
    private static bool Runs(Type projections)
    {
        try
        {
            ((IRecurrentProjections)Activator.CreateInstance(projections)!).Setup();
            return true;
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"// {projections.Name} left out: {e.Message}");
            return false;
        }
    }

    /// <summary>The L2 read bandwidth from the <see cref="L2Bandwidth"/> cases of this run (null if they did not run).</summary>
    private static L2Suite? L2FromSuite(Summary[] summaries)
    {
        var median = new Dictionary<int, double>();
        var best = new Dictionary<int, double>();
        foreach (BenchmarkReport r in summaries.SelectMany(s => s.Reports))
        {
            if (r.BenchmarkCase.Descriptor.Type == typeof(L2Bandwidth) && r.ResultStatistics is { } stats)
            {
                int kib = (int)r.BenchmarkCase.Parameters["KiB"];
                double bytes = L2Bandwidth.BytesPerCall(r.BenchmarkCase);
                median[kib] = bytes / stats.Median;
                best[kib] = bytes / stats.Min;
            }
        }

        return median.ContainsKey(256) && median.ContainsKey(512) ? new L2Suite(median[256], median[512], best[256], best[512]) : null;
    }

    /// <summary>Of the L2 suite: the 256 and 512 KiB buffers with the widest loads this process accelerates.</summary>
    private static bool IsPeersL2Case(BenchmarkCase b) =>
        b.Descriptor.Type != typeof(L2Bandwidth) ||
        ((int)b.Parameters["KiB"] is 256 or 512 && b.Descriptor.WorkloadMethod.Name == (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? nameof(L2Bandwidth.Vector512) : nameof(L2Bandwidth.Vector256)));

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// In-process BenchmarkDotNet: no separate build, and the same process (and startup peak) as the
    /// rest of the command. The reporting job: 6 warm-up and 25 measured iterations of 250 ms each. The
    /// all-cores suites run only their every-core cases (their one-worker cases repeat the one-thread suites).
    /// </summary>
    private static IConfig Config(bool quick)
    {
        Job job = quick
            ? Job.ShortRun.WithId("ShortRun")
            : Job.Default.WithId("Peers").WithLaunchCount(1).WithWarmupCount(6).WithIterationCount(25)
                .WithIterationTime(TimeInterval.FromMilliseconds(250));
        return ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance))
            .AddFilter(new SimpleFilter(b =>
                (b.Parameters.Items.FirstOrDefault(p => p.Name == "Workers") is not { } workers ||
                 (int)workers.Value == Environment.ProcessorCount) && IsPeersL2Case(b)));
    }
}
