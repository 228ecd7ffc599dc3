using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace KernelLab;

/// <summary>One measured kernel: median/min microseconds per call and its error against the reference.</summary>
public sealed record Result(string Cat, string Name, int Width, string Desc, int Acc, double MedianUs, double MinUs,
    double Flops, double Bytes, double RelErr);

public sealed unsafe class Lab(int runs, double runMs)
{
    // Nominal single-core peaks of this machine (performance.md); the measured ones are printed by Peak().
    public static double NominalPeak(int width) => width switch { 512 => 210, 256 => 105, _ => 52.5 };

    // ---------------------------------------------------------------- timing
    public (double med, double min) Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.ElapsedMilliseconds < 150 || n < 20) { a(); n++; }
        double perCallMs = sw.Elapsed.TotalMilliseconds / n;
        int iters = Math.Max(1, (int)(runMs / perCallMs));
        var t = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            sw.Restart();
            for (int i = 0; i < iters; i++) a();
            t[r] = sw.Elapsed.TotalMilliseconds * 1000.0 / iters;
        }
        Array.Sort(t);
        return (t[runs / 2], t[0]);
    }

    // ---------------------------------------------------------------- peak probe
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vector512<float> Peak512(long n)
    {
        var m = Vector512.Create(0.999f); var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static Vector256<float> Peak256(long n)
    {
        var m = Vector256.Create(0.999f); var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        for (long i = 0; i < n; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    }

    public static float Sink;

    public void Peak()
    {
        const long n = 100_000;
        var (m5, _) = Time(() => Sink += Peak512(n).ToScalar());
        var (m2, _) = Time(() => Sink += Peak256(n).ToScalar());
        Console.WriteLine($"peak (12 FMA chains): 512-bit {n * 12 * 32 / (m5 * 1e3):F1} GFLOP/s, 256-bit {n * 12 * 16 / (m2 * 1e3):F1} GFLOP/s");
    }

    // ---------------------------------------------------------------- kernels
    sealed class Case
    {
        public float* X, W, B, Y;
        public int YLen;
        public double Flops, Bytes;
        public Func<double> Check = null!;
    }

    static float* _scratch = Model.Alloc(14 * 14 * 64);
    static readonly Dictionary<string, float[]> Ref = new();

    static float[] Img(int s) => Model.Images.AsSpan(s * 784, 784).ToArray();

    static float[] RandAct(int n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)r.NextDouble();
        return a;
    }

    Case MakeCase(string cat, int width)
    {
        var c = new Case();
        switch (cat)
        {
            case "conv1":
            {
                c.X = Model.Alloc(30 * 30); Model.ChwToPaddedHwc(Img(0), 1, 28, 28, 1, c.X);
                c.W = Model.W1p; c.B = Model.B1p; c.YLen = 16 * 16 * 32; c.Y = Model.Alloc(c.YLen);
                var want = Reference.ConvReluPool(Img(0), 1, 28, 28, Model.W1, Model.B1, 32);
                var y = c.Y;
                c.Check = () =>
                {
                    double border = 0;
                    for (int i = 0; i < 16; i++)
                        for (int j = 0; j < 16; j++)
                            if (i == 0 || j == 0 || i == 15 || j == 15)
                                for (int ch = 0; ch < 32; ch++) border = Math.Max(border, Math.Abs(y[(i * 16 + j) * 32 + ch]));
                    return Math.Max(border, Reference.RelDiff(Model.PaddedHwcToChw(y, 32, 14, 14, 1), want));
                };
                c.Flops = 28 * 28 * 32 * 9 * 2; c.Bytes = 9 * 32 * 4;
                break;
            }
            case "conv2":
            case "conv2raw":
            {
                var in1 = Reference.ConvReluPool(Img(0), 1, 28, 28, Model.W1, Model.B1, 32);
                c.X = Model.Alloc(16 * 16 * 32); Model.ChwToPaddedHwc(in1, 32, 14, 14, 1, c.X);
                c.W = Model.W2p; c.B = Model.B2p; c.YLen = 7 * 7 * 64; c.Y = Model.Alloc(c.YLen);
                var want = Reference.ConvReluPool(in1, 32, 14, 14, Model.W2, Model.B2, 64);
                var y = c.Y;
                c.Check = () => Reference.RelDiff(Model.PaddedHwcToChw(y, 64, 7, 7, 0), want);
                c.Flops = 14 * 14 * 64 * 288 * 2; c.Bytes = 9 * 32 * 64 * 4;
                break;
            }
            default:
            {
                // linear layers: fc1b1, fc1b64, fc2b1, fc2b64 (dot/kn suffixes share data)
                bool fc1 = cat.StartsWith("fc1");
                int batch = cat.Contains("b64") ? 64 : 1;
                int k = fc1 ? 3136 : 128, n = fc1 ? 128 : 10;
                var chw = RandAct(batch * k, 99);
                c.X = Model.Alloc(batch * k);
                for (int m = 0; m < batch; m++)
                    for (int i = 0; i < k; i++)
                        c.X[m * k + (fc1 ? (i % 49) * 64 + i / 49 : i)] = chw[m * k + i]; // NHWC flatten order
                c.W = fc1 ? (cat.Contains("kn") ? Model.Fw1Kn : Model.Fw1Dot) : Model.Fw2Dot;
                c.B = fc1 ? Model.Fb1p : Model.Fb2p;
                c.YLen = batch * n; c.Y = Model.Alloc(c.YLen);
                var want = Reference.Linear(chw, batch, k, fc1 ? Model.Fw1 : Model.Fw2, fc1 ? Model.Fb1 : Model.Fb2, n, fc1);
                var y = c.Y; int len = c.YLen;
                c.Check = () => Reference.RelDiff(new ReadOnlySpan<float>(y, len), want);
                c.Flops = 2.0 * batch * k * n; c.Bytes = 4.0 * k * n;
                break;
            }
        }
        return c;
    }

    public static Action Runner(KernelInfo k, float* x, float* w, float* b, float* y)
    {
        var fn = k.Fn;
        if (k.Cat == "conv2raw")
        {
            delegate*<float*, float*, void> pool = k.Width == 512 ? &Conv2K.Pool2_512 : &Conv2K.Pool2_256;
            return () => { fn(x, w, b, _scratch); pool(_scratch, y); };
        }
        return () => fn(x, w, b, y);
    }

    public List<Result> RunKernels(Func<string, bool> want)
    {
        var results = new List<Result>();
        Console.WriteLine();
        Console.WriteLine("| category | kernel | width | tile | acc | median us | min us | GFLOP/s (median) | GFLOP/s (min) | % peak (min) | GB/s weights (min) | rel err |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var k in Registry.All)
        {
            if (!want(k.Cat) && !want(k.Name)) continue;
            var c = MakeCase(k.Cat, k.Width);
            var run = Runner(k, c.X, c.W, c.B, c.Y);
            new Span<float>(c.Y, c.YLen).Fill(float.NaN);
            if (k.Cat == "conv1") new Span<float>(c.Y, c.YLen).Clear(); // the zero border must survive
            run();
            double err = c.Check();
            var (med, min) = Time(run);
            var r = new Result(k.Cat, k.Name, k.Width, k.Desc, k.Acc, med, min, c.Flops, c.Bytes, err);
            results.Add(r);
            double gf = c.Flops / (med * 1e3), gfMin = c.Flops / (min * 1e3);
            Console.WriteLine($"| {k.Cat} | {k.Name} | {k.Width} | {k.Desc} | {k.Acc} | {med:F2} | {min:F2} | {gf:F1} | {gfMin:F1} | {100 * gfMin / NominalPeak(k.Width):F0}% | " +
                              $"{c.Bytes / (min * 1e3):F1} | {err:E1}{(err > 1e-3 ? " WRONG" : "")} |");
        }
        return results;
    }

    // ---------------------------------------------------------------- whole CNN
    public void RunCnn(List<Result> results)
    {
        // Full reference of the 64 images (PyTorch semantics).
        var refOut = new float[64 * 10];
        for (int s = 0; s < 64; s++)
        {
            var a1 = Reference.ConvReluPool(Img(s), 1, 28, 28, Model.W1, Model.B1, 32);
            var a2 = Reference.ConvReluPool(a1, 32, 14, 14, Model.W2, Model.B2, 64);
            var h = Reference.Linear(a2, 1, 3136, Model.Fw1, Model.Fb1, 128, true);
            Reference.Linear(h, 1, 128, Model.Fw2, Model.Fb2, 10, false).CopyTo(refOut, s * 10);
        }
        var byName = Registry.All.ToDictionary(k => k.Name);
        KernelInfo? Best(int width, params string[] cats)
        {
            var r = results.Where(x => x.Width == width && cats.Contains(x.Cat) && x.RelErr < 1e-3).MinBy(x => x.MinUs); // min: robust against the other workers on the 2 cores
            return r is null ? null : byName[r.Name];
        }

        float* img = Model.Alloc(64 * 784); Model.Images.CopyTo(new Span<float>(img, 64 * 784));
        float* xpad = Model.Alloc(30 * 30), c1 = Model.Alloc(16 * 16 * 32);
        float* act = Model.Alloc(64 * 3136), h1 = Model.Alloc(64 * 128), o = Model.Alloc(64 * 10);
        Console.WriteLine();
        Console.WriteLine("| width | batch | conv1 | conv2 | fc1 | fc2 | median ms | min ms | GFLOP/s | vs ORT | rel err |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (int width in new[] { 512, 256, 128 })
        {
            var k1 = Best(width, "conv1"); var k2 = Best(width, "conv2", "conv2raw");
            if (k1 is null || k2 is null) continue;
            foreach (int batch in new[] { 1, 64 })
            {
                var kf1 = batch == 1 ? Best(width, "fc1b1dot", "fc1b1kn") : Best(width, "fc1b64dot", "fc1b64kn");
                var kf2 = Best(width, batch == 1 ? "fc2b1" : "fc2b64");
                if (kf1 is null || kf2 is null) continue;
                float* wf1 = kf1.Value.Cat.Contains("kn") ? Model.Fw1Kn : Model.Fw1Dot;
                var conv1 = Runner(k1.Value, xpad, Model.W1p, Model.B1p, c1);
                // conv2 writes per sample into act + s*3136: build one runner per sample (no allocation per call)
                var conv2 = new Action[batch];
                for (int s = 0; s < batch; s++) conv2[s] = Runner(k2.Value, c1, Model.W2p, Model.B2p, act + s * 3136);
                var f1 = k1.Value; var fc1 = kf1.Value.Fn; var fc2 = kf2.Value.Fn;
                Action forward = () =>
                {
                    for (int s = 0; s < batch; s++)
                    {
                        float* src = img + s * 784;
                        for (int r = 0; r < 28; r++)
                            Buffer.MemoryCopy(src + r * 28, xpad + (r + 1) * 30 + 1, 28 * 4, 28 * 4);
                        conv1();
                        conv2[s]();
                    }
                    fc1(act, wf1, Model.Fb1p, h1);
                    fc2(h1, Model.Fw2Dot, Model.Fb2p, o);
                };
                new Span<float>(o, 640).Clear();
                forward();
                double err = Reference.RelDiff(new ReadOnlySpan<float>(o, batch * 10), refOut.AsSpan(0, batch * 10));
                var (med, min) = Time(forward);
                double flops = batch * (28 * 28 * 32 * 9 * 2 + 14 * 14 * 64 * 288 * 2 + 3136 * 128 * 2 + 128 * 10 * 2.0);
                double ort = batch == 1 ? 0.062 : 3.08;
                Console.WriteLine($"| {width} | {batch} | {k1.Value.Name} | {k2.Value.Name} | {kf1.Value.Name} | {kf2.Value.Name} | " +
                                  $"{med / 1e3:F4} | {min / 1e3:F4} | {flops / (med * 1e3):F1} | {ort / (med / 1e3):F2}x | {err:E1}{(err > 1e-3 ? " WRONG" : "")} |");
            }
        }
    }
}
