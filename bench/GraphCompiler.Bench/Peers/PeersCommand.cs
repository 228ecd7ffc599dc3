using System.Globalization;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Runners;
using GraphCompiler.Bench.Suites;
using Perfolizer.Horology;

namespace GraphCompiler.Bench.Peers;

/// <summary>
/// <c>--peers [--job short]</c>: GraphCompiler against ONNX Runtime (one thread and its default) and
/// PyTorch (1 and 2 threads) in one invocation, on the same weights and inputs, for every model the
/// project supports (today the seed CNN): inference at batch 1 and 64, one training step at batch 64
/// and 1. GraphCompiler and ONNX Runtime are timed by BenchmarkDotNet in this process
/// (<see cref="CnnInference"/>, <see cref="CnnTraining"/>), PyTorch by <c>bench/peers/torch_bench.py</c>
/// with the same method. Prints the tables and writes them to <c>bench/results/peers.md</c>.
/// </summary>
public static class PeersCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        bool quick = JobName(args) is "short" or "dry";
        string command = "dotnet run -c Release --project bench/GraphCompiler.Bench -- " + string.Join(" ", args);
        var loads = new List<(string Phase, string Load)> { ("start", MachineInfo.LoadAverage) };

        PeakFigures peak = MachinePeak.Current;
        Console.WriteLine($"// Single-core FMA peak at startup: {peak}");
        Console.WriteLine($"// Seed CNN forward: {SeedCnn.FlopsBreakdown}");
        Console.WriteLine($"// Seed CNN training step: {SeedCnn.TrainingFlopsBreakdown}");

        string root = ResultsWriter.RepositoryRoot();
        string script = Path.Combine(root, "bench", "peers", "torch_bench.py");
        DirectoryInfo folder = Directory.CreateTempSubdirectory("graphcompiler-peers-");
        try
        {
            PeerData data = PeerDataWriter.Write(folder.FullName);
            Console.WriteLine(string.Create(Inv, $"// Shared weights and inputs written to {folder.FullName}; GraphCompiler vs ONNX Runtime max abs diff {data.OrtMaxAbsDiff:0.00e+00}"));

            // 1. GraphCompiler and ONNX Runtime: BenchmarkDotNet, in this process.
            Summary[] summaries = BenchmarkRunner.Run([typeof(CnnInference), typeof(CnnTraining)], Config(quick));
            loads.Add(("after GraphCompiler and ONNX Runtime", MachineInfo.LoadAverage));
            BenchmarkReport[] failed = summaries.SelectMany(s => s.Reports).Where(r => !r.Success || r.ResultStatistics is null).ToArray();
            if (summaries.Any(s => s.HasCriticalValidationErrors) || failed.Length > 0 || summaries.All(s => s.Reports.Length == 0))
            {
                Console.Error.WriteLine("Some benchmarks failed or did not run: no peers table written.");
                return 1;
            }

            // Where GraphCompiler's training step spends its time (a Stopwatch breakdown for the notes).
            TrainingPhaseTimes[] phases =
            [
                TrainingPhases.Measure(1, TimeSpan.FromSeconds(quick ? 0.5 : 2)),
                TrainingPhases.Measure(PeerDataWriter.LargeBatch, TimeSpan.FromSeconds(quick ? 0.5 : 2)),
            ];

            // 2. PyTorch: its own process, after ours (the two would compete for the cores otherwise).
            TorchReport torch = TorchPeer.Run(script, folder.FullName, quick);
            loads.Add(("after PyTorch", MachineInfo.LoadAverage));
            if (torch.Available && !torch.ChecksPassed)
            {
                Console.Error.WriteLine("PyTorch does not compute what GraphCompiler computes (see the checks above): no peers table written.");
                return 1;
            }

            string markdown = Report(summaries, torch, data, phases, peak, command, loads, quick);
            string path = Path.Combine(ResultsWriter.ResultsDirectory(), "peers.md");
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

    private static string? JobName(string[] args)
    {
        int i = Array.IndexOf(args, "--job");
        return i >= 0 && i + 1 < args.Length ? args[i + 1].ToLowerInvariant() : null;
    }

    /// <summary>
    /// In-process BenchmarkDotNet: no separate build, and the same process (and startup peak) as the
    /// rest of the command. The reporting job: 6 warm-up and 25 measured iterations of 250 ms each.
    /// </summary>
    private static IConfig Config(bool quick)
    {
        Job job = quick
            ? Job.ShortRun.WithId("ShortRun")
            : Job.Default.WithId("Peers").WithLaunchCount(1).WithWarmupCount(6).WithIterationCount(25)
                .WithIterationTime(TimeInterval.FromMilliseconds(250));
        return ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance));
    }

    private sealed record Work(string Title, string Kind, int Batch, double Flops, string Suite);

    private sealed record Row(string Engine, string ThreadsText, int Threads, double MedianNs, double MinNs, string Allocated);

    private static readonly Work[] Works =
    [
        new("Inference, batch 1", "inference", 1, SeedCnn.FlopsPerImage, nameof(CnnInference)),
        new("Inference, batch 64", "inference", 64, 64.0 * SeedCnn.FlopsPerImage, nameof(CnnInference)),
        new("Training step, batch 64", "training", 64, 64.0 * SeedCnn.TrainingFlopsPerImage, nameof(CnnTraining)),
        new("Training step, batch 1", "training", 1, SeedCnn.TrainingFlopsPerImage, nameof(CnnTraining)),
    ];

    private static string Report(
        Summary[] summaries, TorchReport torch, PeerData data, TrainingPhaseTimes[] phases, PeakFigures peak, string command,
        List<(string Phase, string Load)> loads, bool quick)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# GraphCompiler and its peers: the seed CNN");
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, from the repository root, with:"));
        sb.AppendLine();
        sb.AppendLine("```sh");
        sb.AppendLine(command);
        sb.AppendLine("```");
        sb.AppendLine();
        if (ResultsWriter.GitCommit(ResultsWriter.ResultsDirectory()) is { } commit)
        {
            sb.AppendLine($"Source: commit {commit}.");
            sb.AppendLine();
        }

        if (quick)
        {
            sb.AppendLine("**A short development run (`--job short`): not for reporting.**");
            sb.AppendLine();
        }

        if (!torch.Available)
        {
            sb.AppendLine($"**PyTorch rows left out: {torch.SkipReason}.**");
            sb.AppendLine();
        }

        sb.AppendLine("One invocation: the seed CNN with the generated model's seeded weights (seed 0) and one seeded input batch and");
        sb.AppendLine("label set, written as safetensors for PyTorch, exported as ONNX for ONNX Runtime. Every engine's output is");
        sb.AppendLine("checked against GraphCompiler's before anything is timed. The machine is shared with other workers and noisy:");
        sb.AppendLine("read the ratios measured in this run, not the absolute times, and compare Min with Median to see contention.");
        sb.AppendLine();

        var rowsByWork = new List<(Work Work, List<Row> Rows)>();
        foreach (Work work in Works)
        {
            rowsByWork.Add((work, Rows(work, summaries, torch)));
        }

        foreach ((Work work, List<Row> rows) in rowsByWork)
        {
            AppendTable(sb, work, rows, peak);
            if (work.Kind == "training")
            {
                AppendLosses(sb, work, torch);
            }
        }

        AppendTargets(sb, rowsByWork);
        AppendPhases(sb, phases);

        sb.AppendLine("## Conventions");
        sb.AppendLine();
        sb.AppendLine($"- Forward FLOPs: {SeedCnn.FlopsBreakdown}.");
        sb.AppendLine($"- Training step FLOPs: {SeedCnn.TrainingFlopsBreakdown}; about 2.95x the forward pass.");
        sb.AppendLine("- GFLOP/s: batch x FLOP per image / median time.");
        sb.AppendLine(string.Create(Inv, $"- % of peak: GFLOP/s over the single-core FMA peak measured at startup ({peak.Best:F1} GFLOP/s) times the threads the engine uses."));
        sb.AppendLine("- Median and Min: per call. GraphCompiler and ONNX Runtime: BenchmarkDotNet (in process, MemoryDiagnoser), median and");
        sb.AppendLine("  minimum over iterations of many calls each. PyTorch: the same method in `bench/peers/torch_bench.py` (warm-up, then");
        sb.AppendLine("  iterations of about 100 ms; median and minimum of the per-call time over the iterations).");
        sb.AppendLine("- Faster by: the engine's median over GraphCompiler's (2.00x: GraphCompiler takes half the time). GraphCompiler runs on");
        sb.AppendLine("  one thread; it has no multi-threaded mode yet (data-parallel batches are the issue's part 5).");
        sb.AppendLine("- Inference: GraphCompiler `Forward` (inference mode); ONNX Runtime `RunWithBinding` over pre-bound pinned buffers");
        sb.AppendLine("  (`ORT_ENABLE_ALL`, sequential execution; `IntraOpNumThreads = 1`, or unset for its default of one thread per core);");
        sb.AppendLine("  PyTorch `model.eval()` under `torch.inference_mode()`.");
        sb.AppendLine(string.Create(Inv, $"- Training step: forward in training mode, cross-entropy (mean), backward, SGD (lr {CnnTraining.LearningRate}, momentum {CnnTraining.Momentum});"));
        sb.AppendLine("  GraphCompiler: `Training = true`, `Forward`, `Losses.CrossEntropy` (gradient over the logits), `Backward`, `Sgd.Step`;");
        sb.AppendLine("  PyTorch: `zero_grad(set_to_none=True)`, forward, `F.cross_entropy`, `backward()`, `step()`. The weights move with");
        sb.AppendLine("  every step in both. ONNX Runtime has no training API in C#: no training rows.");
        sb.AppendLine("- The learning rate is small on purpose: the benchmark repeats one batch thousands of times, and with a usual rate");
        sb.AppendLine("  (0.01) the model memorizes it within a few hundred steps; the loss becomes exactly 0 and the momentum buffers decay");
        sb.AppendLine("  through denormal floats, which slowed both engines several times over in trials. Every step does the same");
        sb.AppendLine("  arithmetic whatever the rate; the losses under the training tables show the regime the timed steps stayed in.");
        sb.AppendLine("- Allocated: managed bytes per call after warm-up (BenchmarkDotNet's MemoryDiagnoser; `-` is zero). In process it");
        sb.AppendLine("  counts every thread of the process (the JIT's and the runtime's background work too); the checks below give the");
        sb.AppendLine("  bytes allocated on the calling thread alone.");
        sb.AppendLine();

        sb.AppendLine("## Checks (same weights, same inputs)");
        sb.AppendLine();
        sb.AppendLine(string.Create(
            Inv,
            $"- GraphCompiler managed allocations on the calling thread, after warm-up: {data.InferenceBytesPerCall} B per inference call (batch 64), " +
            $"{string.Join(" and ", data.TrainingBytesPerStep.OrderBy(e => e.Key).Select(e => $"{e.Value} B per training step at batch {e.Key}"))}."));
        sb.AppendLine(string.Create(Inv, $"- GraphCompiler vs ONNX Runtime, logits at batch 1 and 64: max abs diff {data.OrtMaxAbsDiff:0.00e+00} (tolerance {Check.Tolerance:0e+00}); every benchmark setup checks it again."));
        if (torch.Checks is { } checks)
        {
            foreach (JsonBatch b in JsonBatches(checks, "output"))
            {
                sb.AppendLine(string.Create(Inv, $"- GraphCompiler vs PyTorch, logits at batch {b.Batch}: max abs diff {b.Element.GetProperty("max_abs_diff").GetDouble():0.00e+00} (tolerance {Check.Tolerance:0e+00})."));
            }

            foreach (JsonBatch b in JsonBatches(checks, "training"))
            {
                System.Text.Json.JsonElement e = b.Element;
                sb.AppendLine(string.Create(
                    Inv,
                    $"- GraphCompiler vs PyTorch, one training step at batch {b.Batch}: loss {e.GetProperty("loss_graphcompiler").GetDouble():F6} vs {e.GetProperty("loss_pytorch").GetDouble():F6}; " +
                    $"parameter gradients max abs diff {e.GetProperty("grad_max_abs_diff").GetDouble():0.00e+00}, within |d| <= 1e-5 + 1e-3 |g| " +
                    $"({e.GetProperty("grad_worst_tolerance_fraction").GetDouble():F3} of it at worst, {e.GetProperty("grad_worst_parameter")})."));
            }
        }
        else
        {
            sb.AppendLine($"- PyTorch: not run ({torch.SkipReason}).");
        }

        sb.AppendLine();
        sb.AppendLine("## Machine and versions");
        sb.AppendLine();
        sb.Append(MachineInfo.Markdown(OrtRunner.Version));
        sb.AppendLine($"- Single-core FMA peak measured at startup (Stopwatch, best slice): {peak}");
        if (torch.Available)
        {
            IReadOnlyDictionary<string, string> v = torch.Versions;
            sb.AppendLine($"- PyTorch: {Get(v, "torch")} (Debian python3-torch), Python {Get(v, "python")} ({TorchPeer.Python}), NumPy {Get(v, "numpy")}, " +
                          $"oneDNN (mkldnn) {Get(v, "mkldnn")}, default threads {Get(v, "default_threads")}");
            string blas = Get(v, "blas_libraries");
            sb.AppendLine($"- PyTorch's BLAS: {Get(v, "blas_info")}, loaded: `{blas}`");
            if (!blas.Contains("openblas", StringComparison.OrdinalIgnoreCase))
            {
                sb.AppendLine("- **Warning: PyTorch did not load OpenBLAS; with the reference BLAS it is 5-13x slower (install libopenblas0-openmp).**");
            }
        }
        else
        {
            sb.AppendLine($"- PyTorch: not available ({torch.SkipReason}); its columns are left out.");
        }

        sb.AppendLine($"- Load average (1, 5, 15 min): {string.Join("; ", loads.Select(l => $"{l.Phase} {l.Load}"))}");
        sb.AppendLine("- The machine is shared with other workers (its load average is often above its cores): medians move by 2x");
        sb.AppendLine("  or more between runs, and multi-threaded figures suffer most.");
        double highest = loads.Select(l => double.TryParse(l.Load.Split(' ')[0], NumberStyles.Float, Inv, out double v) ? v : 0).Max();
        if (highest > Environment.ProcessorCount)
        {
            sb.AppendLine(string.Create(Inv, $"- **This run: the 1-minute load average reached {highest:F1} on {Environment.ProcessorCount} cores.** The multi-threaded rows"));
            sb.AppendLine("  then measure mostly the wait for a second core (an OpenMP or ONNX Runtime barrier stalls until the other");
            sb.AppendLine("  thread gets a time slice): they say nothing about what the engines do on an idle machine.");
        }

        return sb.ToString();
    }

    private static void AppendPhases(StringBuilder sb, TrainingPhaseTimes[] phases)
    {
        sb.AppendLine("## GraphCompiler's training step by phase");
        sb.AppendLine();
        sb.AppendLine("Stopwatch medians over the steps of a couple of seconds, not the reported times above; \"repack\" is the training");
        sb.AppendLine("forward right after an optimizer step (which rebuilds the kernels' packed copy of the weights) minus a training");
        sb.AppendLine("forward with unchanged weights.");
        sb.AppendLine();
        sb.AppendLine("| Batch | Forward (ms) | Repack after the step (ms) | Loss (ms) | Backward (ms) | SGD (ms) | Sum (ms) | Steps |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (TrainingPhaseTimes p in phases)
        {
            double sum = p.Forward + p.Repack + p.Loss + p.Backward + p.Optimizer;
            sb.AppendLine(string.Create(
                Inv,
                $"| {p.Batch} | {p.Forward:F3} | {p.Repack:F3} | {p.Loss:F4} | {p.Backward:F3} | {p.Optimizer:F3} | {sum:F3} | {p.Steps} |"));
        }

        sb.AppendLine();
    }

    private static string Get(IReadOnlyDictionary<string, string> map, string key) => map.TryGetValue(key, out string? v) ? v : "?";

    private sealed record JsonBatch(int Batch, System.Text.Json.JsonElement Element);

    private static IEnumerable<JsonBatch> JsonBatches(System.Text.Json.JsonElement checks, string section) =>
        checks.GetProperty(section).EnumerateObject()
            .Select(p => new JsonBatch(int.Parse(p.Name, Inv), p.Value))
            .OrderBy(b => b.Batch);

    private static List<Row> Rows(Work work, Summary[] summaries, TorchReport torch)
    {
        var rows = new List<Row>();
        void AddBdn(string method, string engine, string threadsText, int threads)
        {
            BenchmarkReport? report = summaries.SelectMany(s => s.Reports).FirstOrDefault(r =>
                r.BenchmarkCase.Descriptor.Type.Name == work.Suite &&
                r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method &&
                (int)r.BenchmarkCase.Parameters["Batch"] == work.Batch);
            if (report?.ResultStatistics is not { } stats)
            {
                return;
            }

            long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            string allocated = bytes is null ? "?" : bytes == 0 ? "-" : $"{bytes} B";
            rows.Add(new Row(engine, threadsText, threads, stats.Median, stats.Min, allocated));
        }

        AddBdn(nameof(CnnInference.GraphCompiler), "GraphCompiler", "1", 1);
        if (work.Kind == "inference")
        {
            int cores = Environment.ProcessorCount;
            AddBdn(nameof(CnnInference.OnnxRuntime), "ONNX Runtime", "1", 1);
            AddBdn(nameof(CnnInference.OnnxRuntimeDefaultThreads), "ONNX Runtime", $"default ({cores})", cores);
        }

        foreach (TorchTiming t in torch.Timings.Where(t => t.Work == work.Kind && t.Batch == work.Batch).OrderBy(t => t.Threads))
        {
            rows.Add(new Row("PyTorch", t.Threads.ToString(Inv), t.Threads, t.MedianNs, t.MinNs, "n/a"));
        }

        return rows;
    }

    private static void AppendTable(StringBuilder sb, Work work, List<Row> rows, PeakFigures peak)
    {
        sb.AppendLine(string.Create(Inv, $"## {work.Title} ({work.Flops / 1e6:F1} MFLOP per call)"));
        sb.AppendLine();
        sb.AppendLine("| Engine | Threads | Median (ms) | Min (ms) | GFLOP/s | % of peak | Allocated | GraphCompiler faster by |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        Row? ours = rows.FirstOrDefault(r => r.Engine == "GraphCompiler");
        foreach (Row r in rows)
        {
            double gflops = work.Flops / r.MedianNs;
            double percent = 100.0 * gflops / (peak.Best * r.Threads);
            string ratio = ours is null ? "?" : ReferenceEquals(r, ours) ? "(itself)" : string.Create(Inv, $"{r.MedianNs / ours.MedianNs:F2}x");
            sb.AppendLine(string.Create(
                Inv,
                $"| {r.Engine} | {r.ThreadsText} | {Ms(r.MedianNs)} | {Ms(r.MinNs)} | {gflops:F1} | {percent:F1}% | {r.Allocated} | {ratio} |"));
        }

        if (work.Kind == "training")
        {
            sb.AppendLine("| ONNX Runtime | | n/a | | | | | no training API in C# |");
        }

        sb.AppendLine();
    }

    private static void AppendLosses(StringBuilder sb, Work work, TorchReport torch)
    {
        var parts = new List<string>();
        if (CnnTraining.Runs.TryGetValue(work.Batch, out (long Steps, float FirstLoss, float LastLoss) ours))
        {
            parts.Add(string.Create(Inv, $"GraphCompiler {ours.FirstLoss:F4} -> {ours.LastLoss:F4} over {ours.Steps:N0} steps"));
        }

        foreach (TorchTiming t in torch.Timings.Where(t => t.Work == "training" && t.Batch == work.Batch).OrderBy(t => t.Threads))
        {
            parts.Add(string.Create(Inv, $"PyTorch {t.Threads} thread(s) {t.FirstLoss:F4} -> {t.LastLoss:F4} over {t.Steps:N0} steps"));
        }

        if (parts.Count > 0)
        {
            sb.AppendLine($"Loss from the first to the last timed step (each case starts from the shared weights): {string.Join("; ", parts)}.");
            sb.AppendLine();
        }
    }

    private static void AppendTargets(StringBuilder sb, List<(Work Work, List<Row> Rows)> all)
    {
        sb.AppendLine("## Targets (one thread against one thread, this run)");
        sb.AppendLine();
        sb.AppendLine("| Work | Against | GraphCompiler faster by (medians) | (minimums) | Median / min: GraphCompiler, peer | Target | |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | --- |");
        foreach ((Work work, List<Row> rows) in all)
        {
            Row? ours = rows.FirstOrDefault(r => r.Engine == "GraphCompiler");
            if (ours is null)
            {
                continue;
            }

            var targets = new List<(string Engine, double Target)>();
            if (work.Kind == "inference")
            {
                targets.Add(("ONNX Runtime", 1.0));
                if (work.Batch == 1)
                {
                    targets.Add(("PyTorch", 5.0));
                }
            }
            else
            {
                targets.Add(("PyTorch", 2.0));
            }

            foreach ((string engine, double target) in targets)
            {
                Row? peer = rows.FirstOrDefault(r => r.Engine == engine && r.Threads == 1);
                if (peer is null)
                {
                    sb.AppendLine(string.Create(Inv, $"| {work.Title} | {engine}, 1 thread | not measured | | | {target:F1}x | |"));
                    continue;
                }

                double ratio = peer.MedianNs / ours.MedianNs;
                string verdict = ratio >= target ? "met" : string.Create(Inv, $"missed by {target / ratio:F2}x");
                double byMin = peer.MinNs / ours.MinNs;
                double spreadOurs = ours.MedianNs / ours.MinNs, spreadPeer = peer.MedianNs / peer.MinNs;
                if (Math.Max(spreadOurs, spreadPeer) > NoisySpread)
                {
                    verdict += " (noisy)";
                }

                sb.AppendLine(string.Create(
                    Inv,
                    $"| {work.Title} | {engine}, 1 thread | {ratio:F2}x | {byMin:F2}x | {spreadOurs:F2}, {spreadPeer:F2} | {target:F1}x | {verdict} |"));
            }
        }

        sb.AppendLine();
        sb.AppendLine("The verdict reads the medians; the ratio of the minimums (each engine's fastest iteration) is less");
        sb.AppendLine("sensitive to the other workers' load, which changes from one case to the next. \"(noisy)\": the median of");
        sb.AppendLine(string.Create(Inv, $"one of the two is more than {NoisySpread:F2}x its minimum, so the other workers took the core during that case."));
        sb.AppendLine();
    }

    /// <summary>Median over minimum above which a case counts as disturbed by the other workers.</summary>
    private const double NoisySpread = 1.15;

    private static string Ms(double ns)
    {
        double ms = ns / 1e6;
        return ms < 1 ? ms.ToString("F4", Inv) : ms < 100 ? ms.ToString("F3", Inv) : ms.ToString("F1", Inv);
    }
}
