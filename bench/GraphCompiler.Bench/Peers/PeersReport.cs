using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Reports;
using GraphCompiler.Bench.Bandwidth;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Runners;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Peers;

/// <summary>Everything one <c>--peers</c> invocation measured, for the report.</summary>
public sealed record PeersRun(
    IReadOnlyList<PeerEntry> Entries,
    Summary[] Summaries,
    TorchReport Torch,
    IReadOnlyList<PeerData> Data,
    IReadOnlyList<TrainingPhaseTimes> Phases,
    PeakFigures Peak,
    L2Figures? L2,
    string Command,
    IReadOnlyList<(string Phase, string Load)> Loads,
    bool Quick)
{
    /// <summary>
    /// By model key: the batch-1 call timed in alternation with the L2 read kernel after the BenchmarkDotNet run
    /// (<see cref="PairedStreaming"/>), for the models that stream their weights; these judge the streaming target.
    /// </summary>
    public IReadOnlyDictionary<string, PairedStreamingFigures> Paired { get; init; } = new Dictionary<string, PairedStreamingFigures>();
}

/// <summary>
/// One line of a peers table. <paramref name="AllCores"/>: the group of every-core rows (GraphCompiler through
/// DataParallel, ONNX Runtime's default threads, PyTorch with one thread per core). <paramref name="Missing"/>:
/// why there is no figure (the row is then shown with that reason).
/// </summary>
public sealed record Row(
    string Engine, string ThreadsText, int Threads, bool AllCores, double MedianNs, double MinNs, string Allocated, string? Missing = null)
{
    public bool Measured => Missing is null;
}

/// <summary>The Markdown of <c>bench/results/peers.md</c>.</summary>
public static class PeersReport
{
    private const string Ours = "GraphCompiler";

    /// <summary>Median over minimum above which a case counts as disturbed by the other workers.</summary>
    private const double NoisySpread = 1.15;

    /// <summary>The design target for weight streaming: this fraction of the measured L2 read bandwidth.</summary>
    private const double StreamingTarget = 0.70;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static int Cores => Environment.ProcessorCount;

    public static string Write(PeersRun run)
    {
        var sb = new StringBuilder();
        string models = string.Join(", ", run.Entries.Select(e => e.Model.Title));
        sb.AppendLine($"# GraphCompiler and its peers: {models}");
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on a {MachineInfo.Description}, from the repository root, with:"));
        sb.AppendLine();
        sb.AppendLine("```sh");
        sb.AppendLine(run.Command);
        sb.AppendLine("```");
        sb.AppendLine();
        if (ResultsWriter.GitCommit(ResultsWriter.ResultsDirectory()) is { } commit)
        {
            sb.AppendLine($"Source: commit {commit}.");
            sb.AppendLine();
        }

        if (run.Quick)
        {
            sb.AppendLine("**A short development run (`--job short`): not for reporting.**");
            sb.AppendLine();
        }

        if (!run.Torch.Available)
        {
            sb.AppendLine($"**PyTorch rows left out: {run.Torch.SkipReason}.**");
            sb.AppendLine();
        }

        sb.AppendLine("One invocation: each model with the generated model's seeded weights (seed 0) and one seeded input batch and");
        sb.AppendLine("label set, written as safetensors for PyTorch, exported as ONNX for ONNX Runtime. Every engine's output is");
        sb.AppendLine("checked against GraphCompiler's before anything is timed. Each table gives one thread first, then every core:");
        sb.AppendLine($"GraphCompiler through `DataParallel` ({Cores} workers, one slice of the batch each), ONNX Runtime with its default");
        sb.AppendLine($"thread count, PyTorch with {Cores} threads. The machine is shared with other workers and noisy: read the ratios");
        sb.AppendLine("measured in this run, not the absolute times, and compare Min with Median to see contention.");
        sb.AppendLine();

        var tables = new List<(Work Work, List<Row> Rows)>();
        foreach (PeerEntry entry in run.Entries)
        {
            foreach (Work work in entry.Works)
            {
                tables.Add((work, Rows(work, run)));
            }
        }

        AppendSummary(sb, tables);
        foreach (PeerEntry entry in run.Entries)
        {
            sb.AppendLine($"## {Capitalized(entry.Model.Title)}");
            sb.AppendLine();
            foreach ((Work work, List<Row> rows) in tables.Where(t => t.Work.Entry == entry))
            {
                AppendTable(sb, work, rows, run);
                if (!work.IsInference)
                {
                    AppendLosses(sb, work, run.Torch);
                }
            }
        }

        AppendTargets(sb, tables, run);
        AppendPhases(sb, run);
        AppendConventions(sb, run);
        AppendChecks(sb, run);
        AppendMachine(sb, run);
        return sb.ToString();
    }

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    // ---- rows ------------------------------------------------------------------------------------

    private static List<Row> Rows(Work work, PeersRun run)
    {
        var rows = new List<Row>();
        Type gcSuite = work.IsInference ? work.Entry.Inference : work.Entry.Training;
        rows.Add(Bdn(run.Summaries, gcSuite, "GraphCompiler", work.Batch, null, Ours, "1", 1, false)
                 ?? Missing(Ours, "1", 1, false, "not measured"));
        if (work.IsInference)
        {
            AddIf(rows, Bdn(run.Summaries, work.Entry.Inference, "OnnxRuntime", work.Batch, null, "ONNX Runtime", "1", 1, false));
        }

        AddTorch(rows, work, run.Torch, threads: 1, allCores: false);
        if (Cores > 1)
        {
            string allText = $"all cores ({Cores})";
            if (work.Batch == PeerSeeds.LargeBatch)
            {
                string method = work.IsInference ? "Inference" : "TrainingStep";
                rows.Add(Bdn(run.Summaries, work.Entry.AllCores, method, work.Batch, Cores, Ours, allText, Cores, true)
                         ?? Missing(Ours, allText, Cores, true, "not measured"));
            }
            else if (work.Batch != 1)
            {
                rows.Add(Missing(Ours, allText, Cores, true, $"not measured: the all-cores suite runs at batch {PeerSeeds.LargeBatch}"));
            }
            else
            {
                rows.Add(Missing(Ours, allText, Cores, true, "n/a: a batch of 1 cannot be split across cores (DataParallel gives each core a slice of the batch); the one-thread row stands for it"));
            }

            if (work.IsInference)
            {
                AddIf(rows, Bdn(run.Summaries, work.Entry.Inference, "OnnxRuntimeDefaultThreads", work.Batch, null, "ONNX Runtime", $"default ({Cores})", Cores, true));
            }

            AddTorch(rows, work, run.Torch, threads: Cores, allCores: true);
        }

        return rows;
    }

    private static Row Missing(string engine, string threadsText, int threads, bool allCores, string reason) =>
        new(engine, threadsText, threads, allCores, double.NaN, double.NaN, "", reason);

    private static void AddIf(List<Row> rows, Row? row)
    {
        if (row is not null)
        {
            rows.Add(row);
        }
    }

    private static void AddTorch(List<Row> rows, Work work, TorchReport torch, int threads, bool allCores)
    {
        TorchTiming? t = torch.Timings.FirstOrDefault(t => t.Model == work.Model.Key && t.Work == work.Kind && t.Batch == work.Batch && t.Threads == threads);
        if (t is not null)
        {
            rows.Add(new Row("PyTorch", t.Threads.ToString(Inv), t.Threads, allCores, t.MedianNs, t.MinNs, "n/a"));
        }
    }

    private static Row? Bdn(
        Summary[] summaries, Type suite, string method, int batch, int? workers, string engine, string threadsText, int threads, bool allCores)
    {
        BenchmarkReport? report = summaries.SelectMany(s => s.Reports).FirstOrDefault(r =>
            r.BenchmarkCase.Descriptor.Type == suite &&
            r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method &&
            Matches(r.BenchmarkCase.Parameters, "Batch", batch) &&
            (workers is null || Matches(r.BenchmarkCase.Parameters, "Workers", workers.Value)));
        if (report?.ResultStatistics is not { } stats)
        {
            return null;
        }

        long? bytes = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
        string allocated = bytes is null ? "?" : bytes == 0 ? "-" : $"{bytes} B";
        return new Row(engine, threadsText, threads, allCores, stats.Median, stats.Min, allocated);
    }

    /// <summary>True when the case has no such parameter (a suite with a fixed value) or it has this value.</summary>
    private static bool Matches(BenchmarkDotNet.Parameters.ParameterInstances parameters, string name, int value) =>
        parameters.Items.FirstOrDefault(p => p.Name == name) is not { } p || (int)p.Value == value;

    /// <summary>GraphCompiler's row that a row is compared with: the same group's, else the one-thread one.</summary>
    private static (Row? Row, bool Fallback) Reference(List<Row> rows, Row row)
    {
        Row? same = rows.FirstOrDefault(r => r.Engine == Ours && r.AllCores == row.AllCores && r.Measured);
        if (same is not null)
        {
            return (same, false);
        }

        return (rows.FirstOrDefault(r => r.Engine == Ours && !r.AllCores && r.Measured), true);
    }

    // ---- tables ----------------------------------------------------------------------------------

    private static void AppendSummary(StringBuilder sb, List<(Work Work, List<Row> Rows)> tables)
    {
        sb.AppendLine("## Summary: how many times faster GraphCompiler is (ratio of medians, this run)");
        sb.AppendLine();
        sb.AppendLine($"| Model | Work | ONNX Runtime, 1 thread | PyTorch, 1 thread | ONNX Runtime, default ({Cores}) | PyTorch, {Cores} threads |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach ((Work work, List<Row> rows) in tables)
        {
            string Cell(string engine, bool allCores)
            {
                Row? peer = rows.FirstOrDefault(r => r.Engine == engine && r.AllCores == allCores && r.Measured);
                if (peer is null)
                {
                    return engine == "ONNX Runtime" && !work.IsInference ? "(no training)" : "-";
                }

                (Row? ours, bool fallback) = Reference(rows, peer);
                return ours is null ? "?" : string.Create(Inv, $"{peer.MedianNs / ours.MedianNs:F2}x") + (fallback ? " (vs 1 thread)" : "");
            }

            sb.AppendLine($"| {work.Model.Title} | {work.Title} | {Cell("ONNX Runtime", false)} | {Cell("PyTorch", false)} | {Cell("ONNX Runtime", true)} | {Cell("PyTorch", true)} |");
        }

        sb.AppendLine();
        sb.AppendLine($"Every-core columns compare with GraphCompiler on every core (`DataParallel`); at batch 1, which cannot be split, with");
        sb.AppendLine("GraphCompiler on one thread (\"vs 1 thread\"). Below 1.00x the peer is faster.");
        sb.AppendLine();
    }

    private static void AppendTable(StringBuilder sb, Work work, List<Row> rows, PeersRun run)
    {
        bool streaming = work.StreamedBytes is not null && run.L2 is not null;
        sb.AppendLine(string.Create(Inv, $"### {work.Title} ({work.Flops / 1e6:F1} MFLOP per call)"));
        sb.AppendLine();
        sb.AppendLine("| Engine | Threads | Median (ms) | Min (ms) | GFLOP/s | % of peak | Allocated | GraphCompiler faster by |" +
                      (streaming ? " Weights streamed, whole call (GB/s) | % of L2 read bandwidth |" : ""));
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |" + (streaming ? " ---: | ---: |" : ""));
        Row? one = rows.FirstOrDefault(r => r.Engine == Ours && !r.AllCores && r.Measured);
        foreach (Row r in rows)
        {
            if (!r.Measured)
            {
                sb.AppendLine($"| {r.Engine} | {r.ThreadsText} | n/a | | | | | {r.Missing} |" + (streaming ? " | |" : ""));
                continue;
            }

            double gflops = work.Flops / r.MedianNs;
            double percent = 100.0 * gflops / (run.Peak.Best * r.Threads);
            (Row? ours, bool fallback) = Reference(rows, r);
            string ratio;
            if (ReferenceEquals(r, ours))
            {
                ratio = r.AllCores && one is not null
                    ? string.Create(Inv, $"(itself; speed-up over 1 thread {one.MedianNs / r.MedianNs:F2}x)")
                    : "(itself)";
            }
            else
            {
                ratio = ours is null ? "?" : string.Create(Inv, $"{r.MedianNs / ours.MedianNs:F2}x") + (fallback ? " (vs GraphCompiler on 1 thread)" : "");
            }

            string extra = "";
            if (streaming)
            {
                double gbs = work.StreamedBytes!.Value / r.MedianNs;
                extra = string.Create(Inv, $" {gbs:F1} | {100 * gbs / L2Yardstick(run.L2!):F0}% |");
            }

            sb.AppendLine(string.Create(
                Inv,
                $"| {r.Engine} | {r.ThreadsText} | {Ms(r.MedianNs)} | {Ms(r.MinNs)} | {gflops:F1} | {percent:F1}% | {r.Allocated} | {ratio} |{extra}"));
        }

        if (!work.IsInference)
        {
            sb.AppendLine("| ONNX Runtime | | n/a | | | | | no training API in C# |" + (streaming ? " | |" : ""));
        }

        sb.AppendLine();
        if (streaming)
        {
            sb.AppendLine(string.Create(
                Inv,
                $"Weights streamed: {work.Model.StreamedBytesBreakdown}, over the median time of the whole call (the input projections and " +
                $"the classifier included, which stream nothing from L2; `--quick --rnn` times the kernels alone). {L2Sentence(run.L2!)}") +
                ProjectionsSentence(run, work));
            sb.AppendLine();
            if (Paired(run, work) is { } paired)
            {
                sb.AppendLine(PairedSentence(paired));
                sb.AppendLine();
            }
        }
    }

    private static void AppendLosses(StringBuilder sb, Work work, TorchReport torch)
    {
        var parts = new List<string>();
        if (TrainingSettings.Runs.TryGetValue((work.Model.Key, work.Batch, 1), out TrainingRun? ours))
        {
            parts.Add(string.Create(Inv, $"GraphCompiler {ours.FirstLoss:F4} -> {ours.LastLoss:F4} over {ours.Steps:N0} steps"));
        }

        if (TrainingSettings.Runs.TryGetValue((work.Model.Key, work.Batch, Cores), out TrainingRun? all))
        {
            parts.Add(string.Create(Inv, $"GraphCompiler on {Cores} cores {all.FirstLoss:F4} -> {all.LastLoss:F4} over {all.Steps:N0} steps"));
        }

        foreach (TorchTiming t in torch.Timings.Where(t => t.Model == work.Model.Key && t.Work == "training" && t.Batch == work.Batch).OrderBy(t => t.Threads))
        {
            parts.Add(string.Create(Inv, $"PyTorch {t.Threads} thread(s) {t.FirstLoss:F4} -> {t.LastLoss:F4} over {t.Steps:N0} steps"));
        }

        if (parts.Count > 0)
        {
            sb.AppendLine($"Loss from the first to the last timed step (each case starts from the shared weights): {string.Join("; ", parts)}.");
            sb.AppendLine();
        }
    }

    private static void AppendTargets(StringBuilder sb, List<(Work Work, List<Row> Rows)> tables, PeersRun run)
    {
        L2Figures? l2 = run.L2;
        bool anyPaired = tables.Any(t => Paired(run, t.Work) is not null);
        sb.AppendLine("## Targets (one thread against one thread, this run)");
        sb.AppendLine();
        sb.AppendLine(anyPaired
            ? "| Model | Work | Against | GraphCompiler faster by (medians) | (minimums; paired rows: 10th percentile) | Median / min: GraphCompiler, peer (paired rows: p90 / p10 of the call) | Target | |"
            : "| Model | Work | Against | GraphCompiler faster by (medians) | (minimums) | Median / min: GraphCompiler, peer | Target | |");
        sb.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |");
        foreach ((Work work, List<Row> rows) in tables)
        {
            Row? ours = rows.FirstOrDefault(r => r.Engine == Ours && !r.AllCores && r.Measured);
            if (ours is null)
            {
                continue;
            }

            foreach ((string engine, double target) in work.Entry.Targets(work))
            {
                Row? peer = rows.FirstOrDefault(r => r.Engine == engine && r.Threads == 1 && r.Measured);
                if (peer is null)
                {
                    sb.AppendLine(string.Create(Inv, $"| {work.Model.Title} | {work.Title} | {engine}, 1 thread | not measured | | | {target:F1}x | |"));
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
                    $"| {work.Model.Title} | {work.Title} | {engine}, 1 thread | {ratio:F2}x | {byMin:F2}x | {spreadOurs:F2}, {spreadPeer:F2} | {target:F1}x | {verdict} |"));
            }

            if (work.StreamedBytes is double bytes && l2 is not null)
            {
                // The verdict: the call and the L2 read kernel timed in alternation, the ratio taken round by round.
                PairedStreamingFigures? paired = Paired(run, work);
                if (paired is not null)
                {
                    string pairedAgainst = string.Create(
                        Inv,
                        $"L2 read kernel timed in alternation with the call ({paired.RoundsText}; L2 {paired.L2GigabytesPerSecond.Median:F0} GB/s at the median)");
                    string callSpread = string.Create(Inv, $"{paired.CallNs.P90 / paired.CallNs.P10:F2}");

                    // The same gate as the suite's: reads in alternation well under the startup best slice mean a slow window,
                    // which takes more off the call than off the reads (see the note under the batch-1 table): no verdict from it.
                    double startupBest = Math.Max(l2.OneLayer, l2.TwoLayers);
                    // A slow window shows in the call first: single calls at their median should not be slower than
                    // BenchmarkDotNet's mean of back-to-back calls (which carries the host's interruptions) in the same run.
                    double callOverBdn = paired.CallNs.Median / ours.MedianNs;
                    string? slowWindow = paired.L2GigabytesPerSecond.Median < CleanSuite * startupBest
                        ? string.Create(Inv, $"not judged: the reads in alternation ran at {100 * paired.L2GigabytesPerSecond.Median / startupBest:F0}% of the startup best slice at the median (under {100 * CleanSuite:F0}%: a slow window)")
                        : callOverBdn > SlowCall
                        ? string.Create(Inv, $"not judged: the call in alternation took {callOverBdn:F2}x its BenchmarkDotNet median (over {SlowCall:F2}x: a slow window)")
                        : null;
                    string pairedStepsCells, pairedStepsVerdict;
                    if (paired.StepsShare is { } share)
                    {
                        pairedStepsCells = string.Create(Inv, $"{100 * share.Median:F0}% of it | {100 * share.P10:F0}%");
                        pairedStepsVerdict = slowWindow ?? Verdict(share.Median);
                    }
                    else
                    {
                        pairedStepsCells = "n/a | ";
                        pairedStepsVerdict = paired.ProjectionFloorNs is null
                            ? "not judged: the input projections' FLOP are not known"
                            : "not judged: the call was not longer than its input projections at the FMA peak";
                    }

                    sb.AppendLine(string.Create(
                        Inv,
                        $"| {work.Model.Title} | {work.Title} | {pairedAgainst}, weights streamed by the recurrent steps (the call less its input projections at the FMA peak) | {pairedStepsCells} | {callSpread} | {100 * StreamingTarget:F0}% | {pairedStepsVerdict} |"));
                    sb.AppendLine(string.Create(
                        Inv,
                        $"| {work.Model.Title} | {work.Title} | {pairedAgainst}, the same bytes over the whole call (the stricter reading) | {100 * paired.WholeShare.Median:F0}% of it | {100 * paired.WholeShare.P10:F0}% | {callSpread} | {100 * StreamingTarget:F0}% | {slowWindow ?? Verdict(paired.WholeShare.Median)} |"));
                }

                string against = l2.Suite is { } suite
                    ? string.Create(Inv, $"L2 read bandwidth (suite in this run: {suite.Median:F0} GB/s at the median, {suite.Best:F0} at the fastest)")
                    : string.Create(Inv, $"L2 read bandwidth (startup: {l2.OneLayer:F0} GB/s)");
                string? disturbed = l2.Suite is { } measured && measured.Best < CleanSuite * Math.Max(l2.OneLayer, l2.TwoLayers)
                    ? string.Create(Inv, $"the suite's fastest iteration is {100 * measured.Best / Math.Max(l2.OneLayer, l2.TwoLayers):F0}% of the startup best slice (under {100 * CleanSuite:F0}%: disturbed)")
                    : null; // a yardstick measured while other work held the core understates the machine: no verdict from it

                // With paired rows, the BenchmarkDotNet rows below are a reference; without them (no batch-1 call to
                // time, an old path), they judge, unless the suite was disturbed.
                string BdnVerdict(double share) =>
                    paired is not null ? "reference (judged by the paired rows)" + (disturbed is null ? "" : $"; {disturbed}")
                    : disturbed is not null ? $"not judged: {disturbed}"
                    : Verdict(share);

                // The recurrent steps' streaming against the L2 suite's median (minimum against fastest). The steps get all
                // of the call but the least time its input projections can take: their FLOP at the FMA peak.
                string stepsCells, stepsVerdict;
                if (StepsNs(work, ours, run.Peak) is { } stepsNs)
                {
                    double steps = bytes / stepsNs.Median / L2Yardstick(l2), stepsMin = bytes / stepsNs.Min / (l2.Suite?.Best ?? l2.OneLayer);
                    stepsCells = string.Create(Inv, $"{100 * steps:F0}% of it | {100 * stepsMin:F0}%");
                    stepsVerdict = BdnVerdict(steps);
                }
                else
                {
                    stepsCells = "n/a | ";
                    stepsVerdict = paired is not null ? "reference (judged by the paired rows)" : "not judged: the input projections' FLOP are not known";
                }

                sb.AppendLine(string.Create(
                    Inv,
                    $"| {work.Model.Title} | {work.Title} | {against}, weights streamed by the recurrent steps (the call less its input projections at the FMA peak) | {stepsCells} | {ours.MedianNs / ours.MinNs:F2} | {100 * StreamingTarget:F0}% | {stepsVerdict} |"));

                // The stricter reading (the one earlier reports judged): the same bytes over the whole call, the compute-bound
                // input projections included.
                double whole = bytes / ours.MedianNs / L2Yardstick(l2), wholeMin = bytes / ours.MinNs / (l2.Suite?.Best ?? l2.OneLayer);
                sb.AppendLine(string.Create(
                    Inv,
                    $"| {work.Model.Title} | {work.Title} | {against}, the same bytes over the whole call (the stricter reading) | {100 * whole:F0}% of it | {100 * wholeMin:F0}% | {ours.MedianNs / ours.MinNs:F2} | {100 * StreamingTarget:F0}% | {BdnVerdict(whole)} |"));
            }
        }

        sb.AppendLine();
        sb.AppendLine("The verdict reads the medians; the ratio of the minimums (each engine's fastest iteration) is less");
        sb.AppendLine("sensitive to the other workers' load, which changes from one case to the next. \"(noisy)\": the median of");
        sb.AppendLine(string.Create(Inv, $"one of the two is more than {NoisySpread:F2}x its minimum, so the other workers took the core during that case."));
        if (anyPaired)
        {
            sb.AppendLine("The paired rows (the L2 read kernel timed in alternation with the call, see the note under the batch-1 table)");
            sb.AppendLine("judge the streaming target: their first figure is the median across rounds of each round's share, the second");
            sb.AppendLine("column holds its 10th percentile across rounds (not a minimum), and the spread column the 90th over the 10th");
            sb.AppendLine("percentile of the call's per-round median time. The BenchmarkDotNet rows under them are kept as a reference.");
            sb.AppendLine(string.Create(Inv, $"A paired measurement met a slow window, and is not judged, when its reads ran under {100 * CleanSuite:F0}% of the startup best slice"));
            sb.AppendLine(string.Create(Inv, $"at the median or its call took over {SlowCall:F2}x the BenchmarkDotNet median of the same run."));
        }

        sb.AppendLine();
    }

    /// <summary>Met, or missed by how much, for a share of the L2 read bandwidth against <see cref="StreamingTarget"/>.</summary>
    private static string Verdict(double share) =>
        share >= StreamingTarget ? "met" : string.Create(Inv, $"missed by {StreamingTarget / share:F2}x");

    /// <summary>The paired streaming figures of a streaming work (batch-1 inference), if the run measured them.</summary>
    private static PairedStreamingFigures? Paired(PeersRun run, Work work) =>
        work.StreamedBytes is not null && run.L2 is not null && run.Paired.TryGetValue(work.Model.Key, out PairedStreamingFigures? figures)
            ? figures
            : null;

    /// <summary>
    /// The least time in ns a batch-1 call's input projections can take: their FLOP at the single-core FMA peak measured at
    /// startup; null if the model does not say its projections' FLOP.
    /// </summary>
    private static double? ProjectionFloorNs(Work work, PeakFigures peak) => ProjectionFloorNs(work.Model, peak);

    /// <summary>As <see cref="ProjectionFloorNs(Work, PeakFigures)"/> for a model's batch-1 call (FLOP over GFLOP/s: ns).</summary>
    internal static double? ProjectionFloorNs(SuiteModel model, PeakFigures peak) =>
        model.InputProjectionFlopsPerCall is double flops ? flops / peak.Best : null;

    /// <summary>The recurrent steps' time in ns (median, minimum): the call less <see cref="ProjectionFloorNs"/>.</summary>
    private static (double Median, double Min)? StepsNs(Work work, Row ours, PeakFigures peak) =>
        ProjectionFloorNs(work, peak) is double floor && ours.MinNs > floor ? (ours.MedianNs - floor, ours.MinNs - floor) : null;

    /// <summary>The input projections' figures for the note under a batch-1 table, and how the targets use them.</summary>
    private static string ProjectionsSentence(PeersRun run, Work work)
    {
        if (ProjectionFloorNs(work, run.Peak) is not double floorNs)
        {
            return "";
        }

        string alone = Projections(run, work) is { } p
            ? string.Create(Inv, $" Run alone (the kernels and blocks of a batch-1 call, `{work.Entry.Projections!.Name}`), they took {Ms(p.MedianNs)} ms at the median and {Ms(p.MinNs)} ms at the fastest, {100 * floorNs / p.MinNs:F0}% of the peak.")
            : "";
        return string.Create(Inv, $" The input projections ({work.Model.InputProjectionFlopsPerCall / 1e6:F2} MFLOP) take at least {Ms(floorNs)} ms at the FMA peak ({run.Peak.Best:F1} GFLOP/s).{alone} ") +
            "The targets below time the recurrent steps as the call less that least time: no shorter than the steps take, so their rate is not overstated.";
    }

    /// <summary>The batch-1 input projections alone (<see cref="PeerEntry.Projections"/>) of a streaming work, if they ran: median and minimum in ns.</summary>
    private static (double MedianNs, double MinNs)? Projections(PeersRun run, Work work) =>
        work.Entry.Projections is { } type &&
        run.Summaries.SelectMany(s => s.Reports).FirstOrDefault(r => r.BenchmarkCase.Descriptor.Type == type && r.ResultStatistics is not null) is { } report
            ? (report.ResultStatistics!.Median, report.ResultStatistics.Min)
            : null;

    /// <summary>
    /// The suite is taken as measured cleanly when its fastest iteration reaches this share of the startup best slice
    /// (both are best cases of the same reads); quiet runs gave 0.94, loaded ones 0.77-0.86.
    /// </summary>
    private const double CleanSuite = 0.9;

    /// <summary>
    /// The paired call is taken as measured in a slow window when its median is over this multiple of the BenchmarkDotNet
    /// median in the same run (quiet runs: 0.90-0.95, single calls miss the interruptions' tax; slow windows: 1.15-1.25).
    /// </summary>
    private const double SlowCall = 1.1;

    /// <summary>The L2 read bandwidth a median is compared with: the suite's median in this run, else the startup figure.</summary>
    private static double L2Yardstick(L2Figures l2) => l2.Suite?.Median ?? l2.OneLayer;

    private static string L2Sentence(L2Figures l2) =>
        l2.Suite is { } s
            ? string.Create(Inv, $"The L2 read bandwidth is the `L2Bandwidth` suite's, measured in this BenchmarkDotNet run like the models (widest loads, median): " +
                $"{s.OneLayerMedian:F1} GB/s over 256 KiB and {s.TwoLayersMedian:F1} GB/s over 512 KiB; the percentages use the larger, {s.Median:F1} GB/s " +
                $"(fastest iterations: {s.OneLayerBest:F1} and {s.TwoLayersBest:F1} GB/s). The startup measurement (best slice) gave {l2.OneLayer:F1} and {l2.TwoLayers:F1} GB/s.")
            : string.Create(Inv, $"The L2 read bandwidth is this run's startup measurement with the widest loads over a 256 KiB buffer ({l2.OneLayer:F1} GB/s; 512 KiB: {l2.TwoLayers:F1} GB/s).");

    /// <summary>Why and how the streaming target is judged with the call and the L2 read kernel in alternation, and what that gave.</summary>
    private static string PairedSentence(PairedStreamingFigures p)
    {
        string steps = p.StepsShare is { } s
            ? string.Create(Inv, $"the steps' streaming {100 * s.Median:F0}% of it (p10 {100 * s.P10:F0}%, p90 {100 * s.P90:F0}%), ")
            : "";
        return "Why the targets pair the call with the L2 read kernel: BenchmarkDotNet runs the `L2Bandwidth` suite and the model minutes apart, " +
            "and this machine's speed changes between windows of minutes (everything 20-40% slower for a while), so the ratio of the two " +
            "figures, and the verdict, moved between runs. After the BenchmarkDotNet run, the batch-1 call (a fresh workspace) and the widest " +
            string.Create(Inv, $"read kernel over a {p.BufferBytes / 1024} KiB buffer are timed in alternation: {p.Rounds} rounds of {p.CallsPerRound} calls then {p.ReadsPerRound} reads, ") +
            string.Create(Inv, $"each timed alone, about {p.RoundNs / 1e6:F1} ms a round, so both sides of a round's ratio feel the same machine state ") +
            "(which cancels a slowdown that hits both alike; in trials the slow windows took about a quarter off the call and a tenth off the reads, " +
            "so a run in one still reads lower: the call's p10 and p90 below show whether the rounds met one). " +
            "Each round keeps the median call and the median read (the calls and reads right after one of the host's periodic interruptions, " +
            "which re-read their data from L3, drop out of both sides alike) and gives one share; the targets take the median share across " +
            string.Create(Inv, $"rounds and its 10th percentile. This run: call {Ms(p.CallNs.Median)} ms (p10 {Ms(p.CallNs.P10)}, p90 {Ms(p.CallNs.P90)}), ") +
            string.Create(Inv, $"L2 {p.L2GigabytesPerSecond.Median:F1} GB/s (p10 {p.L2GigabytesPerSecond.P10:F1}, p90 {p.L2GigabytesPerSecond.P90:F1}), ") +
            steps +
            string.Create(Inv, $"the whole call's {100 * p.WholeShare.Median:F0}% (p10 {100 * p.WholeShare.P10:F0}%, p90 {100 * p.WholeShare.P90:F0}%).") +
            (p.OtherLoad is double load ? string.Create(Inv, $" Other work on the machine beside the rounds: {load:F2} cores (from /proc; a slow window with none comes from outside this machine).") : "");
    }

    private static void AppendPhases(StringBuilder sb, PeersRun run)
    {
        sb.AppendLine("## GraphCompiler's training step by phase (one thread)");
        sb.AppendLine();
        sb.AppendLine("Stopwatch medians over the steps of a couple of seconds, not the reported times above; \"repack\" is the training");
        sb.AppendLine("forward right after an optimizer step (which rebuilds the kernels' packed copy of the weights) minus a training");
        sb.AppendLine("forward with unchanged weights.");
        sb.AppendLine();
        sb.AppendLine("| Model | Batch | Forward (ms) | Repack after the step (ms) | Loss (ms) | Backward (ms) | SGD (ms) | Sum (ms) | Steps |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (TrainingPhaseTimes p in run.Phases)
        {
            string title = run.Entries.First(e => e.Model.Key == p.Key).Model.Title;
            double sum = p.Forward + p.Repack + p.Loss + p.Backward + p.Optimizer;
            sb.AppendLine(string.Create(
                Inv,
                $"| {title} | {p.Batch} | {p.Forward:F3} | {p.Repack:F3} | {p.Loss:F4} | {p.Backward:F3} | {p.Optimizer:F3} | {sum:F3} | {p.Steps} |"));
        }

        sb.AppendLine();
    }

    private static void AppendConventions(StringBuilder sb, PeersRun run)
    {
        sb.AppendLine("## Conventions");
        sb.AppendLine();
        foreach (PeerEntry e in run.Entries)
        {
            sb.AppendLine($"- {Capitalized(e.Model.Title)}: forward {e.Model.FlopsBreakdown}.");
            sb.AppendLine($"  Training step: {e.Model.TrainingFlopsBreakdown}. ONNX model: {e.Model.OnnxSource}.");
        }

        sb.AppendLine("- GFLOP/s: batch x FLOP per sample / median time.");
        sb.AppendLine(string.Create(Inv, $"- % of peak: GFLOP/s over the single-core FMA peak measured at startup ({run.Peak.Best:F1} GFLOP/s) times the threads the engine uses."));
        sb.AppendLine("- Median and Min: per call. GraphCompiler and ONNX Runtime: BenchmarkDotNet (in process, MemoryDiagnoser), median and");
        sb.AppendLine("  minimum over iterations of many calls each. PyTorch: the same method in `bench/peers/torch_bench.py` (warm-up, then");
        sb.AppendLine("  iterations of about 100 ms; median and minimum of the per-call time over the iterations).");
        sb.AppendLine("- Faster by: the engine's median over GraphCompiler's in the same group (2.00x: GraphCompiler takes half the time):");
        sb.AppendLine($"  one-thread rows against GraphCompiler on one thread, every-core rows against GraphCompiler on {Cores} cores through");
        sb.AppendLine("  `DataParallel` (the batch cut into one slice per core, each run by its own workspace over the shared weights, the");
        sb.AppendLine("  gradients summed in a fixed order; `AllCoresSuite`). A batch of 1 cannot be cut: there the every-core peers are");
        sb.AppendLine("  compared with GraphCompiler's one thread.");
        sb.AppendLine("- Inference: GraphCompiler `Forward` (inference mode); ONNX Runtime `RunWithBinding` over pre-bound pinned buffers");
        sb.AppendLine("  (`ORT_ENABLE_ALL`, sequential execution; `IntraOpNumThreads = 1`, or unset for its default of one thread per core);");
        sb.AppendLine("  PyTorch `model.eval()` under `torch.inference_mode()`.");
        sb.AppendLine(string.Create(Inv, $"- Training step: forward in training mode, cross-entropy (mean), backward, SGD (lr {TrainingSettings.LearningRate}, momentum {TrainingSettings.Momentum});"));
        sb.AppendLine("  GraphCompiler: `Training = true`, `Forward`, `Losses.CrossEntropy` (gradient over the logits; the Transformer: mean NLL of its log-probabilities, padding ignored), `Backward`, `Sgd.Step`;");
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
    }

    private static void AppendChecks(StringBuilder sb, PeersRun run)
    {
        sb.AppendLine("## Checks (same weights, same inputs)");
        sb.AppendLine();
        foreach (PeerData data in run.Data)
        {
            string title = run.Entries.First(e => e.Model.Key == data.Key).Model.Title;
            sb.AppendLine(string.Create(
                Inv,
                $"- {title}: GraphCompiler managed allocations on the calling thread, after warm-up: {data.InferenceBytesPerCall} B per inference call (batch 64), " +
                $"{string.Join(" and ", data.TrainingBytesPerStep.OrderBy(e => e.Key).Select(e => $"{e.Value} B per training step at batch {e.Key}"))}; " +
                $"through DataParallel on {Cores} cores {data.AllCoresInferenceBytesPerCall} B per inference call and {data.AllCoresTrainingBytesPerStep} B per training step (batch 64)."));
            sb.AppendLine(string.Create(Inv, $"- {title}: GraphCompiler vs ONNX Runtime, logits at batch 1 and 64: max abs diff {data.OrtMaxAbsDiff:0.00e+00} (tolerance {Check.Tolerance:0e+00}); every benchmark setup checks it again."));
            if (run.Torch.Checks is { } checks && checks.GetProperty("models").TryGetProperty(data.Key, out JsonElement model))
            {
                foreach (JsonProperty p in model.GetProperty("output").EnumerateObject().OrderBy(p => int.Parse(p.Name, Inv)))
                {
                    sb.AppendLine(string.Create(Inv, $"- {title}: GraphCompiler vs PyTorch, logits at batch {p.Name}: max abs diff {p.Value.GetProperty("max_abs_diff").GetDouble():0.00e+00} (tolerance {Check.Tolerance:0e+00})."));
                }

                foreach (JsonProperty p in model.GetProperty("training").EnumerateObject().OrderBy(p => int.Parse(p.Name, Inv)))
                {
                    JsonElement e = p.Value;
                    sb.AppendLine(string.Create(
                        Inv,
                        $"- {title}: GraphCompiler vs PyTorch, one training step at batch {p.Name}: loss {e.GetProperty("loss_graphcompiler").GetDouble():F6} vs {e.GetProperty("loss_pytorch").GetDouble():F6}; " +
                        $"parameter gradients max abs diff {e.GetProperty("grad_max_abs_diff").GetDouble():0.00e+00}, within |d| <= 1e-5 + 1e-3 |g| " +
                        $"({e.GetProperty("grad_worst_tolerance_fraction").GetDouble():F3} of it at worst, {e.GetProperty("grad_worst_parameter")})."));
                }
            }
            else
            {
                sb.AppendLine($"- {title}: PyTorch not run ({run.Torch.SkipReason ?? "no checks reported"}).");
            }
        }

        sb.AppendLine();
    }

    private static void AppendMachine(StringBuilder sb, PeersRun run)
    {
        sb.AppendLine("## Machine and versions");
        sb.AppendLine();
        sb.Append(MachineInfo.Markdown(OrtRunner.Version));
        sb.AppendLine($"- Single-core FMA peak measured at startup (Stopwatch, best slice): {run.Peak}");
        if (run.L2 is { } l2)
        {
            sb.AppendLine(string.Create(Inv, $"- L2 read bandwidth measured at startup (Stopwatch, best slice, {Bandwidth.ReadKernels.WidestName} loads): {l2.OneLayer:F1} GB/s over 256 KiB, {l2.TwoLayers:F1} GB/s over 512 KiB"));
            if (l2.Suite is { } suite)
            {
                sb.AppendLine(string.Create(Inv, $"- L2 read bandwidth by the `L2Bandwidth` suite in this run (median; fastest iteration): {suite.OneLayerMedian:F1} ({suite.OneLayerBest:F1}) GB/s over 256 KiB, {suite.TwoLayersMedian:F1} ({suite.TwoLayersBest:F1}) GB/s over 512 KiB"));
            }

            foreach (PeerEntry e in run.Entries)
            {
                if (run.Paired.TryGetValue(e.Model.Key, out PairedStreamingFigures? p))
                {
                    sb.AppendLine(string.Create(Inv, $"- L2 read bandwidth timed in alternation with the {e.Model.Title}'s batch-1 call ({p.RoundsText}, {p.BufferBytes / 1024} KiB; median, p10-p90 across rounds): {p.L2GigabytesPerSecond.Median:F1} GB/s ({p.L2GigabytesPerSecond.P10:F1}-{p.L2GigabytesPerSecond.P90:F1})"));
                }
            }
        }

        TorchReport torch = run.Torch;
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

        sb.AppendLine($"- Load average (1, 5, 15 min): {string.Join("; ", run.Loads.Select(l => $"{l.Phase} {l.Load}"))}");
        sb.AppendLine("- The machine is shared with other workers (its load average is often above its cores): medians move by 2x");
        sb.AppendLine("  or more between runs, and multi-threaded figures suffer most.");
        double highest = run.Loads.Select(l => double.TryParse(l.Load.Split(' ')[0], NumberStyles.Float, Inv, out double x) ? x : 0).Max();
        if (highest > Cores)
        {
            sb.AppendLine(string.Create(Inv, $"- **This run: the 1-minute load average reached {highest:F1} on {Cores} cores.** The multi-threaded rows"));
            sb.AppendLine("  then measure mostly the wait for a second core (an OpenMP or ONNX Runtime barrier, or DataParallel's join, stalls");
            sb.AppendLine("  until the other thread gets a time slice): they say nothing about what the engines do on an idle machine.");
        }
    }

    private static string Get(IReadOnlyDictionary<string, string> map, string key) => map.TryGetValue(key, out string? v) ? v : "?";

    private static string Ms(double ns)
    {
        double ms = ns / 1e6;
        return ms < 1 ? ms.ToString("F4", Inv) : ms < 100 ? ms.ToString("F3", Inv) : ms.ToString("F1", Inv);
    }
}
