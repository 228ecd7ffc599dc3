using System.Globalization;

namespace GraphCompiler.Bench.Bandwidth;

/// <summary>
/// <c>--bandwidth</c>, second part: the same bytes read from L2 in the orders a batch-1 stack of two LSTM layers
/// can read its recurrent weights (two 256 KiB blocks, 28 passes each). Reading one block again and again runs
/// slower on some machines than alternating between the two, or than a 512 KiB block: the reason the layers'
/// steps interleave at batch 1 (bench/results/lstm-l2.md). Timed as <c>--quick</c> times (every call; minimum and median).
/// </summary>
public static unsafe class ReadPatterns
{
    private const int Steps = 28;

    public static void Print()
    {
        using var a = new ReadBuffer(256 * 1024);
        using var b = new ReadBuffer(256 * 1024);
        using var both = new ReadBuffer(512 * 1024);
        long bytes = 2L * Steps * a.Bytes;
        Report("one block's passes, then the other's (layer after layer)", bytes, () =>
            ReadKernels.WidestRead(a.Pointer, a.Floats, Steps) + ReadKernels.WidestRead(b.Pointer, b.Floats, Steps));
        Report("the two blocks in turn, one pass each (interleaved layers)", bytes, () =>
        {
            float s = 0;
            for (int t = 0; t < Steps; t++)
            {
                s += ReadKernels.WidestRead(a.Pointer, a.Floats, 1) + ReadKernels.WidestRead(b.Pointer, b.Floats, 1);
            }

            return s;
        });
        Report("one 512 KiB block, 28 passes", bytes, () => ReadKernels.WidestRead(both.Pointer, both.Floats, Steps));
    }

    private static void Report(string pattern, long bytes, Func<float> read)
    {
        float sink = 0;
        (double minUs, double medianUs, _, _) = Verify.QuickTiming.Time(() => sink += read(), 1);
        GC.KeepAlive(sink);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Read pattern, {pattern}: {bytes / (medianUs * 1e3),6:F1} GB/s at the median, {bytes / (minUs * 1e3),6:F1} at the fastest call"));
    }
}
