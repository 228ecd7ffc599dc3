using System.Diagnostics;
using System.Globalization;
using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Rnn;
using GraphCompiler.Bench.Runners;

namespace GraphCompiler.Bench.Verify;

/// <summary>
/// <c>--quick</c> (<c>--rnn</c>, <c>--rnn-only</c>, <c>--transformer</c>, <c>--attention</c>): a Stopwatch timing of the CNN engines in a few seconds, for iterating on kernels.
/// Prints the minimum and the median of many calls: on a shared machine the minimum shows what the code
/// can do, the median what the machine gave it. Not a reportable measurement (use the suites).
/// </summary>
public static class QuickTiming
{
    /// <param name="args">The command line: <c>--rnn</c> adds the seed LSTM and its GRU twin (with a per-kernel
    /// breakdown at batch 1); <c>--rnn-only</c> leaves the CNN out.</param>
    public static int Run(string[] args)
    {
        PeakFigures peak = MachinePeak.Current;
        Console.WriteLine($"Single-core FMA peak: {peak}");
        bool cnn = !args.Contains("--rnn-only") && !args.Contains("--transformer") && !args.Contains("--attention");
        if (args.Contains("--attention"))
        {
            Attention();
        }

        if (cnn)
        {
            Cnn();
        }

#if WITH_GENERATED_MODELS
        if (args.Contains("--rnn") || args.Contains("--rnn-only"))
        {
            Recurrent(Models.LstmModel.Instance);
            Recurrent(Models.GruModel.Instance);
        }

        if (args.Contains("--transformer"))
        {
            Transformer(profile: args.Contains("--profile-forward") ? "forward" : args.Contains("--profile-step") ? "step" : null);
        }
#endif
        return 0;
    }

    private static void Cnn()
    {
        Console.WriteLine($"Seed CNN: {SeedCnn.FlopsBreakdown}");
        Dictionary<string, float[]> parameters = SeedCnn.RandomParameters(seed: 0);
        byte[] model = CnnOnnx.ToBytes(parameters);
        foreach (int batch in new[] { 1, 64 })
        {
            foreach (int threads in new[] { 1, 0 })
            {
                using OrtRunner ort = OrtCnn.Create(model, batch, threads);
                SeedCnn.RandomInput(batch, seed: 1).CopyTo(ort.Input, 0);
                Print($"ONNX Runtime, {(threads == 0 ? "default threads" : "1 thread")}", batch, Time(ort.Run, batch));
            }
        }

#if WITH_GENERATED_MODELS
        foreach (int batch in new[] { 1, 64 })
        {
            var cnn = new Models.MnistCnn(maxBatch: batch, seed: 0);
            float[] input = SeedCnn.RandomInput(batch, seed: 1);
            float[] output = new float[batch * Models.MnistCnn.OutputSize];
            Print("GraphCompiler", batch, Time(() => cnn.Forward(input, output), batch));
        }
#endif
    }

#if WITH_GENERATED_MODELS
    /// <summary>A recurrent model: GraphCompiler and ONNX Runtime (PyTorch export) on one thread, inference at batch 1 and 64.</summary>
    private static void Recurrent<TModel>(Models.RecurrentModel<TModel> spec)
        where TModel : class, ICompiledModel
    {
        Console.WriteLine($"{spec.Title}: {spec.FlopsBreakdown}");
        double l2 = Bandwidth.ReadBuffer.MeasureGigabytesPerSecond(256 * 1024, TimeSpan.FromMilliseconds(300));
        double l2Both = Bandwidth.ReadBuffer.MeasureGigabytesPerSecond(512 * 1024, TimeSpan.FromMilliseconds(300));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  L2 read bandwidth now: {l2:F1} GB/s over 256 KiB, {l2Both:F1} GB/s over 512 KiB; {spec.Spec.StreamedBytesBreakdown}"));
        foreach (int batch in new[] { 1, 64 })
        {
            TModel model = spec.Create(batch);
            float[] input = spec.Input(batch);
            float[] output = new float[batch * spec.OutputLength];
            using OrtRunner ort = spec.CreateOrt(spec.ToOnnx(model.Parameters), batch, intraOpThreads: 1);
            using OrtRunner ortTorch = spec.CreateOrt(spec.ToTorchOnnx(model.Parameters), batch, intraOpThreads: 1, ("input", "output"));
            input.CopyTo(ort.Input, 0);
            input.CopyTo(ortTorch.Input, 0);
            CallTimes ours = Time(() => model.Forward(input, output), batch);
            Print("GraphCompiler " + spec.Key, batch, ours, spec.FlopsPerSample);
            Print("ONNX Runtime " + spec.Key + ", 1 thread", batch, Time(ort.Run, batch), spec.FlopsPerSample);
            Print("  on PyTorch's export", batch, Time(ortTorch.Run, batch), spec.FlopsPerSample);
            if (batch > 1)
            {
                Console.WriteLine($"  GraphCompiler kernels at batch {batch}, one after the other as in Forward (the stack's layers in turn):");
                KernelBreakdown.PrintBatch(model, input, output, batch, SeedRecurrent.Layers, spec.Spec.KernelFlopsPerSample, MachinePeak.Current.Best);
            }

            if (batch == 1)
            {
                // The recurrent steps: the whole call less the least time its input projections can take (their FLOP at the
                // FMA peak), as the peers report times them; the projections alone beside it, where this width has them.
                double yardstick = Math.Max(l2, l2Both), bytes = spec.Spec.StreamedBytesPerCall;
                double floorUs = spec.Spec.InputProjectionFlopsPerSample / (MachinePeak.Current.Best * 1e3);
                string alone = "";
                try
                {
                    var projections = Suites.RecurrentProjectionsSuite<TModel>.For(spec);
                    projections.Setup();
                    CallTimes p = Time(projections.InputProjections, batch);
                    alone = string.Create(CultureInfo.InvariantCulture, $"; alone min {p.MinUs:F1} us, median {p.MedianUs:F1} us ({100 * floorUs / p.MinUs:F0}% of the peak at the min)");
                }
                catch (InvalidOperationException e)
                {
                    alone = $"; not timed alone ({e.Message})";
                }

                double gbsMin = bytes / (ours.MinUs * 1e3), gbsMedian = bytes / (ours.MedianUs * 1e3);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  input projections: at least {floorUs:F1} us at the FMA peak{alone}"));
                if (ours.MinUs > floorUs)
                {
                    double stepsMin = bytes / ((ours.MinUs - floorUs) * 1e3), stepsMedian = bytes / ((ours.MedianUs - floorUs) * 1e3);
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"  weight_hh streamed by the recurrent steps (the call less that least time): {stepsMin:F1} GB/s at the minimum " +
                        $"({100 * stepsMin / yardstick:F0}% of L2, the larger figure), {stepsMedian:F1} GB/s at the median ({100 * stepsMedian / yardstick:F0}%)"));
                }

                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  the same bytes over the whole call: {gbsMin:F1} GB/s at the minimum ({100 * gbsMin / yardstick:F0}% of L2), " +
                    $"{gbsMedian:F1} GB/s at the median ({100 * gbsMedian / yardstick:F0}%)"));

                // The same shares with the call and the L2 read kernel timed in alternation, round by round (as the peers
                // report judges them): the figures above compare a call and a bandwidth measured at different times.
                Bandwidth.PairedStreamingFigures paired = Bandwidth.PairedStreaming.Measure(
                    () => model.Forward(input, output), bytes, floorUs * 1e3, TimeSpan.FromSeconds(1));
                Console.WriteLine($"  timed in alternation with the L2 read kernel: {paired}");
                Console.WriteLine("  GraphCompiler kernels at batch 1, one after the other as in Forward:");
                KernelBreakdown.Print(model, input, output, spec.Spec.StreamedBytesPerCall / (double)SeedRecurrent.Layers, SeedRecurrent.Layers, l2);
            }
        }
    }

    /// <summary>The seed Transformer: inference at batch 1 against ONNX Runtime (1 thread), and the training step at batch 32.</summary>
    /// <param name="profile">"forward" or "step": only call that for 10 s (for a profiler), no timing.</param>
    private static void Transformer(string? profile)
    {
        Models.TransformerModel spec = Models.TransformerModel.Instance;
        Console.WriteLine($"{spec.Title}: {spec.FlopsBreakdown}");
        Models.TransformerWorkspace one = spec.Create(1);
        float[] input = spec.Input(1);
        float[] output = new float[spec.OutputLength];
        using OrtRunner ort = spec.CreateOrt(spec.ToOnnx(one.Parameters), 1, intraOpThreads: 1);
        input.CopyTo(ort.Input, 0);
        if (profile == "forward")
        {
            RunFor(TimeSpan.FromSeconds(10), () => one.Forward(input, output));
            return;
        }

        for (int round = 0; round < 3 && profile == null; round++)
        {
            Print("GraphCompiler", 1, Time(() => one.Forward(input, output), 1), spec.FlopsPerSample);
            Print("ONNX Runtime, 1 thread", 1, Time(ort.Run, 1), spec.FlopsPerSample);
        }

        int batch = spec.TrainingBatch;
        Models.TransformerWorkspace model = spec.Create(batch);
        float[] inputs = spec.Input(batch);
        int[] labels = spec.Labels(batch);
        float[] outputs = new float[batch * spec.OutputLength];
        float[] gradient = new float[outputs.Length];
        var adam = new Adam(model.Parameters, learningRate: 1e-4f);
        model.Training = true;
        void Step()
        {
            model.Forward(inputs, outputs);
            spec.Loss(outputs, labels, gradient);
            model.Backward(gradient);
            adam.Step(model.Gradients);
        }

        if (profile == "step")
        {
            RunFor(TimeSpan.FromSeconds(10), Step);
            return;
        }

        Print("GraphCompiler training step", batch, Time(Step, batch), spec.TrainingFlopsPerSample);
    }

#endif

    /// <summary>Calls <paramref name="call"/> for a while, untimed (for a profiler).</summary>
    private static void RunFor(TimeSpan duration, Action call)
    {
        long until = Environment.TickCount64 + (long)duration.TotalMilliseconds;
        while (Environment.TickCount64 < until)
        {
            call();
        }
    }

    /// <summary>The attention kernel alone (after the projections), forward and backward, at the seed's shape and at a longer sequence.</summary>
    private static unsafe void Attention()
    {
        foreach ((int t, int heads, int headDim) in new[] { (16, 4, 16), (128, 8, 64) })
        {
            int e = heads * headDim;
            float[] q = Random(t * e, 1), k = Random(t * e, 2), v = Random(t * e, 3), dO = Random(t * e, 4);
            float[] o = new float[t * e], lse = new float[heads * t], dq = new float[t * e], dk = new float[t * e], dv = new float[t * e];
            float scale = 1f / MathF.Sqrt(headDim);
            double flops = 4.0 * t * t * e; // Q K^T and P V, 2 FLOP per multiply-add
            fixed (float* pq = q, pk = k, pv = v, pdo = dO, po = o, plse = lse, pdq = dq, pdk = dk, pdv = dv)
            {
                float* cq = pq, ck = pk, cv = pv, cdo = pdo, co = po, clse = plse, cdq = pdq, cdk = pdk, cdv = pdv;
                foreach (bool causal in new[] { false, true })
                {
                    var forward = Time(() => Kernels.AttentionKernel.Forward(cq, e, ck, e, cv, e, co, e, t, t, heads, headDim, scale, causal, null, 0, clse, 0f, 0UL), 1);
                    var backward = Time(() => Kernels.AttentionKernel.Backward(cq, e, ck, e, cv, e, co, e, cdo, e, clse, cdq, e, cdk, e, cdv, e, t, t, heads, headDim, scale, causal, null, 0, 0f, 0UL, false), 1);
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"  attention t {t,3}, {heads} heads of {headDim,2}{(causal ? ", causal" : "        ")}: forward min {forward.MinUs,7:F2} us, median {forward.MedianUs,7:F2} us ({flops / (forward.MedianUs * 1e3),5:F1} GFLOP/s); " +
                        $"backward min {backward.MinUs,7:F2} us, median {backward.MedianUs,7:F2} us"));
                }
            }
        }

        static float[] Random(int n, int seed)
        {
            var random = new Random(seed);
            var x = new float[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = (float)(random.NextDouble() * 2 - 1);
            }

            return x;
        }
    }

    /// <summary>
    /// Every call timed with a Stopwatch after a warm-up (4,000 calls at batch 1, else 200), in microseconds: the
    /// minimum and the median, and the 90th percentile and the mean, which show how often something else took the
    /// core (a call the machine interrupts runs longer than its own time: its data comes back from farther away).
    /// </summary>
    internal static CallTimes Time(Action call, int batch)
    {
        int calls = batch == 1 ? 4000 : 200;
        for (int i = 0; i < calls / 4; i++)
        {
            call();
        }

        var times = new double[calls];
        for (int i = 0; i < calls; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
        }

        Array.Sort(times);
        return new CallTimes(times[0], times[calls / 2], times[calls * 9 / 10], times.Average());
    }

    /// <summary>What <see cref="Time"/> measured, in microseconds per call.</summary>
    internal readonly record struct CallTimes(double MinUs, double MedianUs, double P90Us, double MeanUs);

    private static void Print(string engine, int batch, CallTimes t, double? flopsPerSample = null)
    {
        double flops = (flopsPerSample ?? SeedCnn.FlopsPerImage) * batch;
        double gflopsMedian = flops / (t.MedianUs * 1e3);
        string tail = batch == 1 ? string.Create(CultureInfo.InvariantCulture, $"; p90 {t.P90Us:F1} us, mean {t.MeanUs:F1} us") : "";
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {engine,-32} batch {batch,2}: min {t.MinUs,9:F1} us, median {t.MedianUs,9:F1} us, " +
            $"{gflopsMedian,6:F1} GFLOP/s at the median ({MachinePeak.PercentOfPeak(gflopsMedian),5:F1}% of peak){tail}"));
    }
}
