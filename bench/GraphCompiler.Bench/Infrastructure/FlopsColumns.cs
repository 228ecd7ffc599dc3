using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// The configuration every compute suite shares: median, minimum, GFLOP/s (at the median) and % of the machine's measured peak
/// next to BenchmarkDotNet's own columns (mean, ratio to the baseline, allocations).
/// </summary>
public class FlopsConfig : ManualConfig
{
    public FlopsConfig(Func<BenchmarkCase, double> flopsPerCall)
    {
        AddColumn(StatisticColumn.Median);
        AddColumn(StatisticColumn.Min); // the fastest iteration: on a shared machine, what the code can do
        AddColumn(new GflopsColumn(flopsPerCall));
        AddColumn(new PeakPercentColumn(flopsPerCall));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>Base of the two columns: the rate from the benchmark's median time.</summary>
public abstract class RateColumn(Func<BenchmarkCase, double> flopsPerCall) : IColumn
{
    public abstract string Id { get; }

    public abstract string ColumnName { get; }

    public abstract string Legend { get; }

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? gflops = Gflops(summary, benchmarkCase);
        return gflops is double g ? Format(g) : "NA";
    }

    public override string ToString() => ColumnName;

    protected abstract string Format(double gflops);

    private double? Gflops(Summary summary, BenchmarkCase benchmarkCase)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        double flops = flopsPerCall(benchmarkCase);
        if (medianNs is not double ns || ns <= 0 || double.IsNaN(flops))
        {
            return null;
        }

        return flops / ns; // flop per ns = GFLOP/s
    }
}

/// <summary>GFLOP/s at the median time.</summary>
public sealed class GflopsColumn(Func<BenchmarkCase, double> flopsPerCall) : RateColumn(flopsPerCall)
{
    public override string Id => nameof(GflopsColumn);

    public override string ColumnName => "GFLOP/s";

    public override string Legend => "Floating-point operations per second at the median time, in 10^9 (2 per multiply-accumulate)";

    protected override string Format(double gflops) => gflops.ToString("F2", CultureInfo.InvariantCulture);
}

/// <summary>Percent of the single-core FMA peak measured at startup (<see cref="MachinePeak"/>).</summary>
public sealed class PeakPercentColumn(Func<BenchmarkCase, double> flopsPerCall) : RateColumn(flopsPerCall)
{
    public override string Id => nameof(PeakPercentColumn);

    public override string ColumnName => "% of peak";

    public override string Legend =>
        "GFLOP/s as a percentage of this machine's single-core FMA peak, measured at startup: " + MachinePeak.Current;

    protected override string Format(double gflops) =>
        MachinePeak.PercentOfPeak(gflops).ToString("F1", CultureInfo.InvariantCulture) + "%";
}

/// <summary>The configuration of the memory suites: median, minimum and GB/s at the median.</summary>
public class BandwidthConfig : ManualConfig
{
    public BandwidthConfig(Func<BenchmarkCase, double> bytesPerCall)
    {
        AddColumn(StatisticColumn.Median);
        AddColumn(StatisticColumn.Min);
        AddColumn(new GigabytesPerSecondColumn(bytesPerCall));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>GB/s (10^9 bytes per second) at the median time.</summary>
public sealed class GigabytesPerSecondColumn(Func<BenchmarkCase, double> bytesPerCall) : RateColumn(bytesPerCall)
{
    public override string Id => nameof(GigabytesPerSecondColumn);

    public override string ColumnName => "GB/s";

    public override string Legend => "Bytes read per second at the median time, in 10^9";

    protected override string Format(double gigabytesPerSecond) => gigabytesPerSecond.ToString("F1", CultureInfo.InvariantCulture);
}
