using GraphCompiler.Bench.Infrastructure;
using System.Text.Json;

namespace GraphCompiler.Bench.Peers;

/// <summary>One PyTorch timing from <c>bench/peers/torch_bench.py</c>.</summary>
public sealed record TorchTiming(
    string Model, string Work, int Batch, int Threads, double MedianNs, double MinNs, int Iterations, int CallsPerIteration,
    long Steps, double? FirstLoss, double? LastLoss);

/// <summary>What the PyTorch script reported, or why there is nothing.</summary>
public sealed record TorchReport(
    bool Available,
    string? SkipReason,
    IReadOnlyList<TorchTiming> Timings,
    IReadOnlyDictionary<string, string> Versions,
    JsonElement? Checks,
    bool ChecksPassed,
    string? Method);

/// <summary>
/// Runs the PyTorch peer: Debian's <c>/usr/bin/python3</c> (the only interpreter here that imports
/// python3-torch; override with the environment variable <c>GRAPHCOMPILER_PEERS_PYTHON</c>) on
/// <c>bench/peers/torch_bench.py</c>, which prints JSON on stdout and its progress on stderr.
/// </summary>
public static class TorchPeer
{
    public static string Python => TorchScript.Python;

    /// <param name="script">bench/peers/torch_bench.py.</param>
    /// <param name="dataFolder">Where the models' weights and data were written.</param>
    /// <param name="quick">Short runs (not for reporting).</param>
    /// <param name="models">The models' keys (cnn, lstm, gru, transformer).</param>
    /// <param name="threads">The thread counts to time, in order.</param>
    public static TorchReport Run(string script, string dataFolder, bool quick, IReadOnlyList<string> models, IReadOnlyList<int> threads)
    {
        if (!File.Exists(Python))
        {
            return Skipped($"{Python} not found (install: apt-get install -y --no-install-recommends python3-torch python3-numpy libopenblas0-openmp)");
        }

        (int probeCode, string probeOut, string probeErr) = TorchScript.Execute(Python, ["-c", "import torch, numpy; print(torch.__version__)"], echoErrors: false);
        if (probeCode != 0)
        {
            string reason = probeErr.Trim().Split('\n').LastOrDefault() ?? "import failed";
            return Skipped($"{Python} cannot import torch and numpy ({reason}); install python3-torch python3-numpy libopenblas0-openmp");
        }

        Console.WriteLine($"// PyTorch {probeOut.Trim()} via {Python}: {script}");
        var arguments = new List<string>
        {
            script, "--dir", dataFolder,
            "--models", string.Join(",", models),
            "--threads", string.Join(",", threads),
            "--lr", Suites.TrainingSettings.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--momentum", Suites.TrainingSettings.Momentum.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (quick)
        {
            arguments.Add("--quick");
        }

        (int code, string stdout, string stderr) = TorchScript.Execute(Python, arguments, echoErrors: true);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stdout);
        }
        catch (JsonException)
        {
            throw new InvalidOperationException(
                $"The PyTorch script exited with code {code} without a JSON report.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }

        JsonElement root = document.RootElement;
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in root.GetProperty("versions").EnumerateObject())
        {
            versions[property.Name] = property.Value.ToString();
        }

        var timings = new List<TorchTiming>();
        foreach (JsonElement r in root.GetProperty("results").EnumerateArray())
        {
            timings.Add(new TorchTiming(
                r.TryGetProperty("model", out JsonElement model) ? model.GetString()! : "cnn",
                r.GetProperty("work").GetString()!,
                r.GetProperty("batch").GetInt32(),
                r.GetProperty("threads").GetInt32(),
                r.GetProperty("median_ns").GetDouble(),
                r.GetProperty("min_ns").GetDouble(),
                r.GetProperty("iterations").GetInt32(),
                r.GetProperty("calls_per_iteration").GetInt32(),
                r.GetProperty("calls").GetInt64(),
                r.TryGetProperty("first_loss", out JsonElement first) ? first.GetDouble() : null,
                r.TryGetProperty("last_loss", out JsonElement last) ? last.GetDouble() : null));
        }

        JsonElement checks = root.GetProperty("checks").Clone();
        bool passed = checks.GetProperty("ok").GetBoolean() && code == 0;
        string method = string.Join("; ", root.GetProperty("method").EnumerateObject().Select(p => $"{p.Name} {p.Value}"));
        return new TorchReport(true, null, timings, versions, checks, passed, method);
    }

    private static TorchReport Skipped(string reason)
    {
        Console.WriteLine($"// PyTorch columns skipped: {reason}");
        return new TorchReport(false, reason, [], new Dictionary<string, string>(), null, false, null);
    }
}
