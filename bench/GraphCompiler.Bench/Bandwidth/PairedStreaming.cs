using System.Diagnostics;
using System.Globalization;

namespace GraphCompiler.Bench.Bandwidth;

/// <summary>The 10th percentile, the median and the 90th percentile of a figure across the rounds of a measurement.</summary>
public readonly record struct RoundQuantiles(double P10, double Median, double P90)
{
    /// <summary>
    /// The quantiles of <paramref name="values"/> (sorted in place): linear interpolation between the nearest order
    /// statistics, so that a short run with few rounds still gives a figure between two measured ones.
    /// </summary>
    public static RoundQuantiles Of(Span<double> values)
    {
        values.Sort();
        return new RoundQuantiles(At(values, 0.1), At(values, 0.5), At(values, 0.9));
    }

    private static double At(ReadOnlySpan<double> sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}

/// <summary>
/// What <see cref="PairedStreaming.Measure"/> found: the rounds, and across them the quantiles of the call's median time,
/// of the L2 read rate and of the shares of it the call's streamed bytes reach.
/// </summary>
/// <param name="Rounds">Rounds measured within the budget.</param>
/// <param name="CallsPerRound">Calls timed one by one in each round.</param>
/// <param name="ReadsPerRound">Reads of the L2 buffer timed one by one in each round, after the calls.</param>
/// <param name="BufferBytes">The read buffer's size (one sweep); a read sweeps it <see cref="ReadBuffer.Passes"/> times.</param>
/// <param name="BytesPerRead">Bytes one read sweeps (<see cref="ReadBuffer.BytesRead"/>).</param>
/// <param name="StreamedBytes">Bytes of weights one call streams.</param>
/// <param name="ProjectionFloorNs">The least time the call's input projections can take (ns), if known.</param>
/// <param name="CallNs">The round's median call time, in ns.</param>
/// <param name="L2GigabytesPerSecond">The round's L2 read rate at its median read time, in GB/s (10^9 bytes per second).</param>
/// <param name="StepsShare">
/// The round's streamed bytes over the call less <paramref name="ProjectionFloorNs"/>, as a share of the round's L2 read
/// rate (0.83 = 83%); null without a floor, or when some round's call was not longer than the floor.
/// </param>
/// <param name="WholeShare">The round's streamed bytes over the whole call, as a share of the round's L2 read rate.</param>
/// <param name="OtherLoad">
/// How many cores' worth of other work ran beside the rounds, on average (the machine's busy time less this thread's,
/// from <c>/proc/stat</c>; null where that cannot be read). Where two virtual cores share one physical core, work on the
/// other one takes execution units and cache from the call: a busy loop there made the seed LSTM's call 30% slower.
/// </param>
public sealed record PairedStreamingFigures(
    int Rounds,
    int CallsPerRound,
    int ReadsPerRound,
    int BufferBytes,
    long BytesPerRead,
    double StreamedBytes,
    double? ProjectionFloorNs,
    RoundQuantiles CallNs,
    RoundQuantiles L2GigabytesPerSecond,
    RoundQuantiles? StepsShare,
    RoundQuantiles WholeShare,
    double? OtherLoad)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>How the rounds were made, for a title: "1440 rounds of 16 + 16".</summary>
    public string RoundsText => string.Create(Inv, $"{Rounds} rounds of {CallsPerRound} + {ReadsPerRound}");

    /// <summary>About how long a round takes, in ns: its calls and its reads at their medians.</summary>
    public double RoundNs => (CallsPerRound * CallNs.Median) + (ReadsPerRound * BytesPerRead / L2GigabytesPerSecond.Median);

    /// <summary>One line of the figures (medians, then p10 and p90 across the rounds).</summary>
    public override string ToString()
    {
        string steps = StepsShare is { } s
            ? string.Create(Inv, $"steps {100 * s.Median:F1}% of L2 (p10 {100 * s.P10:F1}, p90 {100 * s.P90:F1}); ")
            : "steps not judged (no projection floor below the call); ";
        string other = OtherLoad is double load ? string.Create(Inv, $"; other work beside it: {load:F2} cores") : "";
        return string.Create(
            Inv,
            $"{RoundsText} ({BufferBytes / 1024} KiB, {ReadKernels.WidestName} loads): " +
            $"call {CallNs.Median / 1e3:F1} us (p10 {CallNs.P10 / 1e3:F1}, p90 {CallNs.P90 / 1e3:F1}); " +
            $"L2 {L2GigabytesPerSecond.Median:F1} GB/s (p10 {L2GigabytesPerSecond.P10:F1}, p90 {L2GigabytesPerSecond.P90:F1}); {steps}" +
            $"whole call {100 * WholeShare.Median:F1}% (p10 {100 * WholeShare.P10:F1}, p90 {100 * WholeShare.P90:F1}){other}");
    }
}

/// <summary>
/// The share of the L2 read bandwidth a batch-1 call's weight streaming reaches, with the call and the L2 read kernel
/// timed in alternation, round by round, in one loop.
/// </summary>
/// <remarks>
/// <para>
/// Why in alternation: timed apart (BenchmarkDotNet runs a model and the <see cref="L2Bandwidth"/> suite minutes apart),
/// the two figures come from different machine states, and this machine has windows of minutes where everything runs
/// 20-40% slower, so their ratio, and a verdict read from it, changes from one run to the next. Here a round is
/// <see cref="CallsPerRound"/> calls then <see cref="ReadsPerRound"/> reads, about 2 ms in all for the seed LSTM: both sides
/// of each round's ratio feel the same machine state, so a slowdown that hits both alike cancels out. It does not cancel a
/// slowdown that hits the call harder than the reads (in trials the slow windows took about a quarter off the call, a tenth
/// off the reads and nothing off the FMA peak): the spread of the call across rounds shows whether the rounds met one.
/// </para>
/// <para>
/// Why medians of single calls, on both sides: the host interrupts the core periodically, and the call after an
/// interruption re-reads its weights from L3 (the read after one re-reads its buffer the same way). Each call and each
/// read is timed alone and a round keeps the median of each side, so those calls are left out of both sides alike; the
/// ratio compares like statistics. The figures are then the quantiles of the per-round values across the rounds.
/// </para>
/// <para>
/// Nothing is allocated inside the timed loop (the per-round arrays are sized before it starts, from the warm-up's
/// fastest pair), so no collection interrupts it.
/// </para>
/// </remarks>
public static class PairedStreaming
{
    /// <summary>Calls timed per round.</summary>
    public const int CallsPerRound = 16;

    /// <summary>Reads of the L2 buffer timed per round.</summary>
    public const int ReadsPerRound = 16;

    /// <summary>The read buffer: both seed LSTM layers' recurrent weights (2 x 4 x 128 x 128 floats), in L2.</summary>
    public const int BufferBytes = 512 * 1024;

    /// <summary>Call-and-read pairs of the warm-up (the call's code at its final tier, its weights and the buffer in L2).</summary>
    private const int WarmUpPairs = 2000;

    /// <summary>The warm-up stops after this long even if it has not made <see cref="WarmUpPairs"/> pairs.</summary>
    private static readonly TimeSpan WarmUpLimit = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Warms up, then times rounds of <see cref="CallsPerRound"/> calls of <paramref name="call"/> and
    /// <see cref="ReadsPerRound"/> reads of a <see cref="BufferBytes"/> buffer with the widest read kernel
    /// (<see cref="ReadBuffer.Read"/>) for about <paramref name="budget"/>, each call and each read timed alone.
    /// </summary>
    /// <param name="call">One call (a batch-1 forward over preallocated input and output).</param>
    /// <param name="streamedBytes">Bytes of weights one call streams.</param>
    /// <param name="projectionFloorNs">
    /// The least time in ns the call's input projections can take, for the steps reading (the call less it); null for none.
    /// </param>
    /// <param name="budget">How long the timed rounds run (the warm-up comes before it).</param>
    public static PairedStreamingFigures Measure(Action call, double streamedBytes, double? projectionFloorNs, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var buffer = new ReadBuffer(BufferBytes);
        float sink = 0;

        // Warm-up; its fastest pair bounds how many rounds the budget can hold.
        long fastestPair = long.MaxValue;
        long warmUpEnd = Stopwatch.GetTimestamp() + (long)(WarmUpLimit.TotalSeconds * Stopwatch.Frequency);
        for (int i = 0; i < WarmUpPairs && Stopwatch.GetTimestamp() < warmUpEnd; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            sink += buffer.Read();
            fastestPair = Math.Min(fastestPair, Stopwatch.GetTimestamp() - t0);
        }

        long budgetTicks = Math.Max(1, (long)(budget.TotalSeconds * Stopwatch.Frequency));
        long roundTicks = Math.Max(1, fastestPair * Math.Max(CallsPerRound, ReadsPerRound));
        int capacity = (int)Math.Min(1_000_000, budgetTicks / roundTicks + budgetTicks / roundTicks / 4 + 16);
        var callTicks = new long[CallsPerRound];
        var readTicks = new long[ReadsPerRound];
        var callMedian = new double[capacity];
        var readMedian = new double[capacity];
        Median(callTicks); // the first sort makes the runtime's sort helper for long (24 bytes): before the loop, not in it

        (long Busy, long Total)? machineBefore = MachineTicks();
        long? threadBefore = ThreadTicks();
        int rounds = 0;
        long end = Stopwatch.GetTimestamp() + budgetTicks;
        while (rounds < capacity && (rounds == 0 || Stopwatch.GetTimestamp() < end))
        {
            for (int i = 0; i < CallsPerRound; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                call();
                callTicks[i] = Stopwatch.GetTimestamp() - t0;
            }

            for (int i = 0; i < ReadsPerRound; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                sink += buffer.Read();
                readTicks[i] = Stopwatch.GetTimestamp() - t0;
            }

            callMedian[rounds] = Median(callTicks);
            readMedian[rounds] = Median(readTicks);
            rounds++;
        }

        GC.KeepAlive(sink);
        double? otherLoad = OtherLoad(machineBefore, MachineTicks(), threadBefore, ThreadTicks());

        // Per round: ticks to ns, the read rate, the shares; then the quantiles across the rounds.
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        var callNs = new double[rounds];
        var l2 = new double[rounds];
        var whole = new double[rounds];
        double floorNs = projectionFloorNs ?? 0;
        var steps = projectionFloorNs is null ? null : new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            callNs[r] = callMedian[r] * nsPerTick;
            l2[r] = buffer.BytesRead / (readMedian[r] * nsPerTick);
            whole[r] = streamedBytes / callNs[r] / l2[r];
            if (steps is not null)
            {
                double stepsNs = callNs[r] - floorNs;
                if (stepsNs <= 0)
                {
                    steps = null; // the floor leaves the steps no time in this round: no steps reading
                }
                else
                {
                    steps[r] = streamedBytes / stepsNs / l2[r];
                }
            }
        }

        return new PairedStreamingFigures(
            rounds,
            CallsPerRound,
            ReadsPerRound,
            BufferBytes,
            buffer.BytesRead,
            streamedBytes,
            projectionFloorNs,
            RoundQuantiles.Of(callNs),
            RoundQuantiles.Of(l2),
            steps is null ? null : RoundQuantiles.Of(steps),
            RoundQuantiles.Of(whole),
            otherLoad);
    }

    /// <summary>
    /// Cores' worth of other work during the rounds: the machine's busy time less this thread's, over the wall time (both
    /// in the kernel's clock ticks, summed over the cores); null without <c>/proc</c>.
    /// </summary>
    private static double? OtherLoad((long Busy, long Total)? before, (long Busy, long Total)? after, long? threadBefore, long? threadAfter)
    {
        if (before is not { } b || after is not { } a || threadBefore is not long t0 || threadAfter is not long t1 || a.Total <= b.Total)
        {
            return null;
        }

        double wallTicks = (double)(a.Total - b.Total) / Environment.ProcessorCount;
        return Math.Max(0, (a.Busy - b.Busy - (t1 - t0)) / wallTicks);
    }

    /// <summary>The machine's busy and total time in clock ticks, summed over its cores (the first line of /proc/stat).</summary>
    private static (long Busy, long Total)? MachineTicks()
    {
        try
        {
            long[] v = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            long idle = v[3] + v[4]; // idle and iowait
            long total = v.Take(Math.Min(v.Length, 8)).Sum(); // user to steal (guest time is inside user)
            return (total - idle, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>This thread's user and system time in clock ticks (fields 14 and 15 of /proc/thread-self/stat).</summary>
    private static long? ThreadTicks()
    {
        try
        {
            string stat = File.ReadAllText("/proc/thread-self/stat");
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (name) ": field 3 is f[0]
            return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The median of a round's times (sorted in place; the mean of the middle two for an even count).</summary>
    private static double Median(long[] ticks)
    {
        Array.Sort(ticks);
        int n = ticks.Length;
        return n % 2 == 1 ? ticks[n / 2] : (ticks[(n / 2) - 1] + ticks[n / 2]) / 2.0;
    }
}
