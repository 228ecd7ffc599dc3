// KernelLab: which hand-written kernel shapes should the generator emit for the seed CNN?
// Usage: dotnet run -c Release --project bench/KernelLab -- [--runs N] [--ms M] [filter...]
//   filter: substrings of a category or kernel name (conv1, conv2, fc1b1, fc1b64, fc2, peak, cnn).
// Timing: Stopwatch, warm-up >= 150 ms per kernel, then N runs of ~M ms, median per call.
// BenchmarkDotNet is referenced (see Bdn.cs: `-- --bdn --filter '*'`) for the final cross-check.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using KernelLab;

if (args.Contains("--bdn"))
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Model).Assembly)
        .Run(args.Where(a => a != "--bdn").ToArray());
    return;
}
int runs = 9; double runMs = 15;
var filters = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs") runs = int.Parse(args[++i]);
    else if (args[i] == "--ms") runMs = double.Parse(args[++i]);
    else filters.Add(args[i]);
}
bool Want(string s) => filters.Count == 0 || filters.Any(f => s.Contains(f, StringComparison.OrdinalIgnoreCase));

Console.WriteLine($"# KernelLab  {DateTime.UtcNow:u}  .NET {Environment.Version}  cores {Environment.ProcessorCount}");
Console.WriteLine($"Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated}  Vector256={Vector256.IsHardwareAccelerated}  " +
                  $"PreferredVectorBitWidth={Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth")}  EnableAVX512={Environment.GetEnvironmentVariable("DOTNET_EnableAVX512")}");
Model.Init();
var lab = new Lab(runs, runMs);

if (Want("peak")) lab.Peak();
var results = lab.RunKernels(Want);
if (Want("cnn")) lab.RunCnn(results);
