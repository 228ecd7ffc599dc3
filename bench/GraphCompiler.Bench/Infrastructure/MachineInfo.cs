using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>What a result file records about the machine and the software that produced it.</summary>
public static class MachineInfo
{
    private static readonly string[] RelevantFlags =
        ["fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16"];

    /// <summary>The CPU model from /proc/cpuinfo (or the runtime's description elsewhere).</summary>
    public static string CpuModel => CpuInfoField("model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    /// <summary>The ISA flags that decide which kernels run, as /proc/cpuinfo lists them.</summary>
    public static string IsaFlags
    {
        get
        {
            string? flags = CpuInfoField("flags");
            if (flags is null)
            {
                return "unknown";
            }

            HashSet<string> present = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            return string.Join(" ", RelevantFlags.Where(present.Contains));
        }
    }

    private static string? _loadAtStart;

    /// <summary>Remembers the load average before the benchmarks run (call first thing).</summary>
    public static void CaptureStart() => _loadAtStart = LoadAverage;

    /// <summary>The load average when asked (shared machines: the other workers' load).</summary>
    public static string LoadAverage =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>"2-core AMD EPYC (AVX-512) VM": the one-line description the result files start from.</summary>
    public static string Description
    {
        get
        {
            string flags = " " + (CpuInfoField("flags") ?? "") + " ";
            string isa = flags.Contains(" avx512f ", StringComparison.Ordinal) ? "AVX-512"
                : flags.Contains(" avx2 ", StringComparison.Ordinal) ? "AVX2"
                : RuntimeInformation.ProcessArchitecture.ToString();
            string vm = flags.Contains(" hypervisor ", StringComparison.Ordinal) ? " VM" : "";
            return $"{Environment.ProcessorCount}-core {CpuModel} ({isa}){vm}";
        }
    }

    public static string VectorSupport =>
        $"Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, " +
        $"Vector128 {Vector128.IsHardwareAccelerated}";

    /// <summary>A Markdown list of the machine and runtime facts.</summary>
    public static string Markdown(string? onnxRuntimeVersion)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"- Machine: {Description}");
        sb.AppendLine($"- CPU: {CpuModel}; {Environment.ProcessorCount} logical cores (shared with other workers: expect noise)");
        sb.AppendLine($"- Caches (CPUID): {CacheInfo.Text}");
        sb.AppendLine($"- ISA flags: {IsaFlags}");
        sb.AppendLine($"- JIT vector widths: {VectorSupport}");
        sb.AppendLine($"- OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})");
        sb.AppendLine($"- .NET: {RuntimeInformation.FrameworkDescription}");
        sb.AppendLine($"- BenchmarkDotNet: {typeof(BenchmarkDotNet.Running.BenchmarkRunner).Assembly.GetName().Version}");
        if (onnxRuntimeVersion is not null)
        {
            sb.AppendLine($"- ONNX Runtime: {onnxRuntimeVersion} (Microsoft.ML.OnnxRuntime)");
        }

        sb.AppendLine($"- Load average (1, 5, 15 min) at start: {_loadAtStart ?? "not captured"}; at the end: {LoadAverage}");
        return sb.ToString();
    }

    private static string? CpuInfoField(string name)
    {
        const string path = "/proc/cpuinfo";
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (string line in File.ReadLines(path))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && line[..colon].Trim() == name)
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
