using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using GraphCompiler;
using Mnist;

// The MNIST inference path, small enough to publish as a native AOT binary:
//
//   MnistAot [--checkpoint FILE] [--data DIR] [--first-only] [--limit N]
//
// loads the weights (a safetensors checkpoint, e.g. one saved by samples/Mnist, or the seeded initialization),
// reads the MNIST test set (--data, else the cache folder, fetched on first use), predicts the first test image
// and prints the time from process start to that prediction; then, unless --first-only, the accuracy on the
// test set (or its first N images) at batch 100.

const int Batch = 100;
long startTicks = Environment.TickCount64;
TimeSpan sinceProcessStart = SinceProcessStart();

string? checkpoint = null, data = null;
bool firstOnly = false;
int limit = int.MaxValue;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--checkpoint" when i + 1 < args.Length: checkpoint = args[++i]; break;
        case "--data" when i + 1 < args.Length: data = args[++i]; break;
        case "--first-only": firstOnly = true; break;
        case "--limit" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n) && n > 0: limit = n; i++; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: MnistAot [--checkpoint FILE] [--data DIR] [--first-only] [--limit N]");
            return 2;
    }
}

try
{
    var model = new MnistCnn(maxBatch: Batch, seed: 1);
    if (checkpoint is not null)
    {
        Checkpoint.Load(checkpoint, model.Parameters);
    }

    MnistFiles files = data is not null ? MnistFiles.InDirectory(data) : MnistData.EnsureDownloaded();
    LabeledImages test = files.LoadTest();

    Span<float> logits = stackalloc float[MnistCnn.OutputSize * Batch];
    model.Forward(test.Image(0), logits[..MnistCnn.OutputSize]);
    int first = ArgMax(logits[..MnistCnn.OutputSize]);
    double firstMs = (sinceProcessStart + TimeSpan.FromMilliseconds(Environment.TickCount64 - startTicks)).TotalMilliseconds;

    string width = Vector512.IsHardwareAccelerated ? "512-bit" : Vector256.IsHardwareAccelerated ? "256-bit" : Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"first prediction: {first} (label {test.Labels[0]}), {firstMs:F1} ms after process start; {width} kernels; weights: {checkpoint ?? "seeded"}"));
    if (firstOnly)
    {
        return 0;
    }

    var clock = Stopwatch.StartNew();
    int correct = 0, count = Math.Min(limit, test.Count);
    for (int start = 0; start < count; start += Batch)
    {
        int n = Math.Min(Batch, count - start);
        model.Forward(test.Images.AsSpan(start * MnistCnn.InputSize, n * MnistCnn.InputSize), logits[..(n * MnistCnn.OutputSize)]);
        for (int s = 0; s < n; s++)
        {
            correct += ArgMax(logits.Slice(s * MnistCnn.OutputSize, MnistCnn.OutputSize)) == test.Labels[start + s] ? 1 : 0;
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"test accuracy: {(double)correct / count:F4} ({correct}/{count}) in {clock.Elapsed.TotalMilliseconds:F0} ms"));
    return 0;
}
catch (Exception e) when (e is IOException or InvalidOperationException or InvalidDataException or CheckpointException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        best = values[i] > values[best] ? i : best;
    }

    return best;
}

// Time since the kernel started this process: /proc/self/stat's start time (clock ticks since boot) against
// /proc/uptime. Zero where /proc is missing; the bench script measures launches from outside as well.
static TimeSpan SinceProcessStart()
{
    try
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double startTicks = double.Parse(fields[19], CultureInfo.InvariantCulture); // field 22 of the file
        double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(Math.Max(0, uptime - startTicks / 100.0));
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
    {
        return TimeSpan.Zero;
    }
}
