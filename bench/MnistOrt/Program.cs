using System.Diagnostics;
using System.Globalization;
using GraphCompiler;
using GraphCompiler.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mnist;

// samples/MnistAot on ONNX Runtime:
//
//   MnistOrt --export FILE.onnx [--checkpoint FILE]     writes the CNN (checkpoint or seeded weights) as ONNX
//   MnistOrt --model FILE.onnx [--data DIR] [--first-only]
//
// The second form does what MnistAot does: load the model, read the MNIST test set, predict the first test image and
// print the time from process start; then, unless --first-only, the accuracy on the test set at batch 100.

const int Batch = 100;
var sinceStart = Stopwatch.StartNew();
TimeSpan atMain = DateTime.Now - Process.GetCurrentProcess().StartTime;

string? export = null, model = null, checkpoint = null, data = null;
bool firstOnly = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--export" when i + 1 < args.Length: export = args[++i]; break;
        case "--model" when i + 1 < args.Length: model = args[++i]; break;
        case "--checkpoint" when i + 1 < args.Length: checkpoint = args[++i]; break;
        case "--data" when i + 1 < args.Length: data = args[++i]; break;
        case "--first-only": firstOnly = true; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            return 2;
    }
}

if (export is not null)
{
    var cnn = new MnistCnn(maxBatch: 1, seed: 1);
    if (checkpoint is not null)
    {
        Checkpoint.Load(checkpoint, cnn.Parameters);
    }

    OnnxExport.Save(MnistCnn.Graph, cnn.Parameters, export, "mnist_cnn");
    Console.WriteLine($"wrote {export} ({new FileInfo(export).Length} bytes; weights: {checkpoint ?? "seeded"})");
    return 0;
}

if (model is null)
{
    Console.Error.WriteLine("usage: MnistOrt --export FILE.onnx [--checkpoint FILE] | --model FILE.onnx [--data DIR] [--first-only]");
    return 2;
}

using var options = new SessionOptions { IntraOpNumThreads = 1 };
using var session = new InferenceSession(model, options);
string inputName = session.InputMetadata.Keys.First();
MnistFiles files = data is not null ? MnistFiles.InDirectory(data) : MnistData.EnsureDownloaded();
LabeledImages test = files.LoadTest();

float[] Predict(int start, int n)
{
    var input = new DenseTensor<float>(test.Images.AsMemory(start * 784, n * 784), [n, 1, 28, 28]);
    using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, input)]);
    return results.First().AsEnumerable<float>().ToArray();
}

int first = ArgMax(Predict(0, 1));
double firstMs = (atMain + sinceStart.Elapsed).TotalMilliseconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"first prediction: {first} (label {test.Labels[0]}), {firstMs:F1} ms after process start; ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU, 1 thread"));
if (firstOnly)
{
    return 0;
}

var clock = Stopwatch.StartNew();
int correct = 0;
for (int start = 0; start < test.Count; start += Batch)
{
    int n = Math.Min(Batch, test.Count - start);
    float[] logits = Predict(start, n);
    for (int s = 0; s < n; s++)
    {
        correct += ArgMax(logits.AsSpan(s * 10, 10)) == test.Labels[start + s] ? 1 : 0;
    }
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"test accuracy: {(double)correct / test.Count:F4} ({correct}/{test.Count}) in {clock.Elapsed.TotalMilliseconds:F0} ms"));
return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++)
    {
        best = values[i] > values[best] ? i : best;
    }

    return best;
}
