using System.Diagnostics;
using System.Globalization;
using GraphCompiler.Bench.Peak;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>Single-core FP32 FMA throughput per vector width, in GFLOP/s (2 flops per lane per FMA).</summary>
public sealed record PeakFigures(double Scalar, double Vector128, double Vector256, double Vector512)
{
    /// <summary>The machine's peak: the best width that the JIT accelerates in this process.</summary>
    public double Best
    {
        get
        {
            double best = Scalar;
            best = System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated ? Math.Max(best, Vector128) : best;
            best = System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? Math.Max(best, Vector256) : best;
            best = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? Math.Max(best, Vector512) : best;
            return best;
        }
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"Vector512 {Vector512:F1}, Vector256 {Vector256:F1}, Vector128 {Vector128:F1}, scalar {Scalar:F1} GFLOP/s (peak used for %: {Best:F1})");
}

/// <summary>
/// Measures the single-core FMA peak of this machine, now, with the same kernels as the
/// <see cref="PeakFma"/> benchmark: a short Stopwatch loop per width (about 200 ms), best of many short
/// slices, so the figure belongs to this run. The BenchmarkDotNet suite <see cref="PeakFma"/> is the
/// reportable measurement; this one is what the other suites divide by to print "% of peak".
/// </summary>
public static class MachinePeak
{
    private const long SliceIterations = 1 << 14; // 196k FMAs per slice, ~50 us at 512-bit
    private static readonly object Gate = new();
    private static PeakFigures? _current;

    /// <summary>The figures of this process, measured on first use.</summary>
    public static PeakFigures Current
    {
        get
        {
            lock (Gate)
            {
                return _current ??= Measure(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Measures every width for about <paramref name="perWidth"/> each.</summary>
    public static PeakFigures Measure(TimeSpan perWidth)
    {
        // Order: widest first, so the scalar loop's lower clock demands cannot flatter the vector figures.
        double v512 = Rate(FmaKernels.Vector512Chains, 16, perWidth);
        double v256 = Rate(FmaKernels.Vector256Chains, 8, perWidth);
        double v128 = Rate(FmaKernels.Vector128Chains, 4, perWidth);
        double scalar = Rate(FmaKernels.ScalarChains, 1, perWidth);
        var figures = new PeakFigures(scalar, v128, v256, v512);
        lock (Gate)
        {
            _current = figures;
        }

        return figures;
    }

    /// <summary>Percent of the current peak reached by <paramref name="gflops"/>.</summary>
    public static double PercentOfPeak(double gflops) => 100.0 * gflops / Current.Best;

    private static double Rate(Func<long, float> kernel, int lanes, TimeSpan duration)
    {
        float sink = kernel(SliceIterations); // the kernels are fully optimized from the first call
        double flopsPerSlice = FmaKernels.Flops(SliceIterations, lanes);
        double bestSeconds = double.MaxValue;
        long budget = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetTimestamp() - start < budget)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += kernel(SliceIterations);
            long t1 = Stopwatch.GetTimestamp();
            bestSeconds = Math.Min(bestSeconds, (t1 - t0) / (double)Stopwatch.Frequency);
        }

        GC.KeepAlive(sink);
        return flopsPerSlice / bestSeconds / 1e9;
    }
}
