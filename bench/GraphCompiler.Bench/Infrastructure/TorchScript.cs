using System.Diagnostics;
using System.Text.Json;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// Runs <c>bench/peers/torch_bench.py</c> with Debian's <c>/usr/bin/python3</c> (the only interpreter here
/// that imports python3-torch; override with the environment variable <c>GRAPHCOMPILER_PEERS_PYTHON</c>).
/// The script prints JSON on stdout and its progress on stderr.
/// </summary>
public static class TorchScript
{
    public const string DefaultPython = "/usr/bin/python3";

    public static string Python => Environment.GetEnvironmentVariable("GRAPHCOMPILER_PEERS_PYTHON") is { Length: > 0 } p ? p : DefaultPython;

    /// <summary>bench/peers/torch_bench.py of this repository.</summary>
    public static string Script => Path.Combine(ResultsWriter.RepositoryRoot(), "bench", "peers", "torch_bench.py");

    /// <summary>
    /// Runs the script with <paramref name="arguments"/> and returns its JSON report; throws with its output when
    /// it fails (for the ONNX export, which has no fallback).
    /// </summary>
    public static JsonDocument RunScript(IEnumerable<string> arguments)
    {
        if (!File.Exists(Python))
        {
            throw new InvalidOperationException(
                $"{Python} not found: the ONNX export of this model needs PyTorch (apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-openmp).");
        }

        (int code, string stdout, string stderr) = Execute(Python, [Script, .. arguments], echoErrors: false);
        if (code != 0)
        {
            throw new InvalidOperationException($"{Python} {Script} exited with code {code}.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }

        return JsonDocument.Parse(stdout);
    }

    internal static (int Code, string Stdout, string Stderr) Execute(string file, IEnumerable<string> arguments, bool echoErrors)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = new Process { StartInfo = start };
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }

            if (echoErrors)
            {
                Console.WriteLine(e.Data);
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        lock (stderr)
        {
            return (process.ExitCode, stdout, stderr.ToString());
        }
    }
}
