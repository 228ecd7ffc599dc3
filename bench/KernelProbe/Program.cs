// Stopwatch probe of the transformer kernels' GEMM (y = x Wᵀ + b) against a naive triple loop, on the
// transformer's shapes. Not a reportable benchmark (see bench/README.md): best of several time slices, one thread.
//   dotnet run -c Release --project bench/KernelProbe
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GraphCompiler.Kernels;

unsafe
{
    Console.WriteLine($"Vector512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Vector256 {System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated}");
    Console.WriteLine("| m | k | n | MultiplyTransposedB GFLOP/s | naive GFLOP/s | Multiply GFLOP/s | MultiplyTransposedA GFLOP/s |");
    Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
    foreach ((int m, int k, int n) in new[] { (20, 64, 64), (20, 64, 192), (20, 64, 256), (20, 256, 64), (384, 64, 192), (384, 64, 256), (384, 256, 64), (640, 64, 256), (640, 256, 64), (640, 64, 48) })
    {
        float* a = Alloc(m * k), b = Alloc(n * k), c = Alloc(m * n), bias = Alloc(n), dy = Alloc(m * n), dx = Alloc(m * k), dw = Alloc(n * k);
        double flops = 2.0 * m * k * n;
        double fast = Best(() => Gemm.MultiplyTransposedB(a, k, b, k, c, n, m, k, n, bias, false), flops);
        double naive = Best(() => Naive(a, b, c, bias, m, k, n), flops);
        double dX = Best(() => Gemm.Multiply(dy, n, b, k, dx, k, m, n, k, false), flops);
        double dW = Best(() => Gemm.MultiplyTransposedA(dy, n, a, k, dw, k, m, n, k), flops);
        Console.WriteLine($"| {m} | {k} | {n} | {fast:F1} | {naive:F1} | {dX:F1} | {dW:F1} |");
        NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(b); NativeMemory.AlignedFree(c); NativeMemory.AlignedFree(bias);
        NativeMemory.AlignedFree(dy); NativeMemory.AlignedFree(dx); NativeMemory.AlignedFree(dw);
    }
}

static unsafe float* Alloc(int n)
{
    float* p = (float*)NativeMemory.AlignedAlloc((nuint)n * 4, 64);
    var rng = new Random(n);
    for (int i = 0; i < n; i++) p[i] = (float)(rng.NextDouble() - 0.5);
    return p;
}

// GFLOP/s of the best of 15 slices of about 20 ms each, after a warm-up.
static double Best(Action run, double flops)
{
    for (int i = 0; i < 200; i++) run();
    var sw = Stopwatch.StartNew();
    int reps = 1;
    while (true)
    {
        sw.Restart();
        for (int i = 0; i < reps; i++) run();
        if (sw.Elapsed.TotalMilliseconds > 20) break;
        reps *= 2;
    }

    double best = double.MaxValue;
    for (int s = 0; s < 15; s++)
    {
        sw.Restart();
        for (int i = 0; i < reps; i++) run();
        best = Math.Min(best, sw.Elapsed.TotalSeconds / reps);
    }

    return flops / best / 1e9;
}

[MethodImpl(MethodImplOptions.AggressiveOptimization)]
static unsafe void Naive(float* a, float* b, float* c, float* bias, int m, int k, int n)
{
    for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
    {
        float s = bias[j];
        for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
        c[i * n + j] = s;
    }
}
