#if WITH_GENERATED_MODELS
using System.Diagnostics;
using System.Globalization;
using GraphCompiler.Bench.Infrastructure;

namespace GraphCompiler.Bench.Verify;

/// <summary>
/// <c>--quick --rnn</c>: the time of each generated kernel of a batch-1 forward pass, in the order the
/// model runs them, beside the whole call. The kernels (<see cref="GeneratedKernels"/>) are called through
/// function pointers on the model's own workspace and packed weights, and the clock is stamped between them.
/// Each repetition runs the whole sequence, so every kernel sees the caches as it would inside <c>Forward</c>.
/// </summary>
public static unsafe class KernelBreakdown
{
    /// <summary>One kernel's name and times in microseconds over all repetitions (sorted).</summary>
    public sealed record KernelTimes(string Name, double[] Us)
    {
        public double Min => Us[0];

        public double Median => Us[Us.Length / 2];
    }

    /// <summary>
    /// Times the kernels of <paramref name="model"/> (after one <c>Forward</c> on <paramref name="input"/>,
    /// which packs the weights) <paramref name="repetitions"/> times at <paramref name="batch"/>. Above batch 1,
    /// a stack's kernel ("_Layers") is timed as the per-layer kernels it calls there, for
    /// <paramref name="layers"/> layers. Returns null when the generated class cannot be found (a generator
    /// change renamed it).
    /// </summary>
    public static List<KernelTimes>? Measure(ICompiledModel model, float[] input, float[] output, int repetitions, int batch = 1, int layers = 1)
    {
        GeneratedKernels? generated = GeneratedKernels.Of(model, input, output);
        if (generated is null)
        {
            return null;
        }

        float* arena = generated.Arena, parameters = generated.Parameters, packed = generated.Packed;
        var names = new List<string>();
        var pointers = new List<IntPtr>();
        IEnumerable<string> listed = generated.Listed;
        if (batch > 1)
        {
            listed = listed.SelectMany(name => name.EndsWith("_Layers", StringComparison.Ordinal) ? LayerKernels(name[..^"_Layers".Length], layers) : [name]);
        }

        foreach (string name in listed)
        {
            if (generated.Find(name, GeneratedKernels.ForwardSignature) is { } method)
            {
                names.Add(method.Name);
                pointers.Add(method.MethodHandle.GetFunctionPointer());
            }
        }

        int count = names.Count;
        var times = new double[count][];
        for (int i = 0; i < count; i++)
        {
            times[i] = new double[repetitions];
        }

        long* stamps = stackalloc long[count + 1];
        for (int r = -repetitions / 4; r < repetitions; r++)
        {
            stamps[0] = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++)
            {
                ((delegate*<float*, float*, float*, int, void>)pointers[i])(arena, parameters, packed, batch);
                stamps[i + 1] = Stopwatch.GetTimestamp();
            }

            if (r >= 0)
            {
                for (int i = 0; i < count; i++)
                {
                    times[i][r] = (stamps[i + 1] - stamps[i]) * 1e6 / Stopwatch.Frequency;
                }
            }
        }

        var result = new List<KernelTimes>();
        for (int i = 0; i < count; i++)
        {
            Array.Sort(times[i]);
            result.Add(new KernelTimes(names[i], times[i]));
        }

        return result;
    }

    /// <summary>The kernels a stack runs above batch 1, layer after layer: steps of layer 0, then input projection and steps of each layer above.</summary>
    private static IEnumerable<string> LayerKernels(string stem, int layers)
    {
        yield return stem + "_L0_Steps";
        for (int l = 1; l < layers; l++)
        {
            yield return $"{stem}_L{l}_Input";
            yield return $"{stem}_L{l}_Steps";
        }
    }

    /// <summary>
    /// Prints the kernels at <paramref name="batch"/> above 1: each kernel's minimum and median, and its rate
    /// against the FMA peak (<paramref name="peakGflops"/>) where <paramref name="flopsOf"/> knows its FLOP per sample.
    /// </summary>
    public static void PrintBatch(ICompiledModel model, float[] input, float[] output, int batch, int layers, Func<string, double?> flopsOf, double peakGflops)
    {
        List<KernelTimes>? kernels = Measure(model, input, output, repetitions: 60, batch, layers);
        if (kernels is null)
        {
            Console.WriteLine("  (kernel breakdown unavailable: the generated kernels class was not found)");
            return;
        }

        foreach (KernelTimes k in kernels)
        {
            double? flops = flopsOf(k.Name);
            string share = flops is double f
                ? string.Create(CultureInfo.InvariantCulture, $", {f * batch / (k.Median * 1e3),6:F1} GFLOP/s at the median ({100 * f * batch / (k.Median * 1e3) / peakGflops:F0}% of peak)")
                : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {k.Name,-24} min {k.Min,8:F1} us, median {k.Median,8:F1} us{share}"));
        }
    }

    /// <summary>
    /// Prints the breakdown: each kernel's minimum and median, and for the step kernels (names with "_Steps")
    /// the recurrent weights they stream per call over their own time, beside the L2 figure. A stack's kernel
    /// ("_Layers": every layer's steps, interleaved at batch 1, and the input projections of layers 1 and up)
    /// streams every layer's weights.
    /// </summary>
    public static void Print(ICompiledModel model, float[] input, float[] output, double streamedBytesPerLayer, int layers, double l2GigabytesPerSecond)
    {
        List<KernelTimes>? kernels = Measure(model, input, output, repetitions: 4000);
        if (kernels is null)
        {
            Console.WriteLine("  (kernel breakdown unavailable: the generated kernels class was not found)");
            return;
        }

        double sumMin = 0, stepsMin = 0, stepsMedian = 0;
        int stepKernels = 0;
        foreach (KernelTimes k in kernels)
        {
            sumMin += k.Min;
            bool stack = k.Name.Contains("_Layers", StringComparison.Ordinal);
            bool steps = stack || k.Name.Contains("_Steps", StringComparison.Ordinal);
            string extra = "";
            if (steps)
            {
                int streamedLayers = stack ? layers : 1;
                stepKernels += streamedLayers;
                stepsMin += k.Min;
                stepsMedian += k.Median;
                double gbs = streamedBytesPerLayer * streamedLayers / (k.Min * 1e3);
                extra = string.Create(CultureInfo.InvariantCulture, $"  {(stack ? "steps and projections" : "steps only")}: {gbs,6:F1} GB/s at the minimum ({100 * gbs / l2GigabytesPerSecond:F0}% of L2)");
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"    {k.Name,-24} min {k.Min,7:F2} us, median {k.Median,7:F2} us{extra}"));
        }

        if (stepKernels > 0)
        {
            double gbs = streamedBytesPerLayer * stepKernels / (stepsMin * 1e3);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"    sum of the minimums {sumMin:F1} us; step kernels: min {stepsMin:F1} us, median {stepsMedian:F1} us, " +
                $"{gbs:F1} GB/s at the minimum ({100 * gbs / l2GigabytesPerSecond:F0}% of L2)"));
        }
    }
}
#endif
