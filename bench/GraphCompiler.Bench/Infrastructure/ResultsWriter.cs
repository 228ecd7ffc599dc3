using System.Globalization;
using System.Text;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// <c>--save-results</c>: writes one Markdown file per suite to <c>bench/results/</c> (kebab-case suite
/// name) with the machine, the runtime versions, the command and BenchmarkDotNet's table.
/// </summary>
public static class ResultsWriter
{
    public static void Write(IEnumerable<Summary> summaries, string command, string? onnxRuntimeVersion, PeakFigures? peak)
    {
        string directory = ResultsDirectory();
        foreach (Summary summary in summaries)
        {
            if (summary.HasCriticalValidationErrors || summary.Reports.Length == 0 ||
                summary.Reports.Any(r => !r.Success || r.ResultStatistics is null))
            {
                Console.WriteLine($"No result file for {summary.Title}: some benchmarks failed.");
                continue;
            }

            string suite = summary.BenchmarksCases[0].Descriptor.Type.Name;
            string path = Path.Combine(directory, Kebab(suite) + ".md");
            var sb = new StringBuilder();
            sb.AppendLine($"# {suite}");
            sb.AppendLine();
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC with:"));
            sb.AppendLine();
            sb.AppendLine("```");
            sb.AppendLine(command);
            sb.AppendLine("```");
            sb.AppendLine();
            string? commit = GitCommit(directory);
            if (commit is not null)
            {
                sb.AppendLine($"Source: commit {commit}.");
                sb.AppendLine();
            }

            sb.AppendLine("## Machine");
            sb.AppendLine();
            sb.Append(MachineInfo.Markdown(onnxRuntimeVersion));
            if (peak is not null)
            {
                sb.AppendLine($"- Single-core FMA peak measured at startup (Stopwatch, best slice): {peak}");
            }

            Type suiteType = summary.BenchmarksCases[0].Descriptor.Type;
            if (suiteType.GetCustomAttributes(typeof(ResultNotesAttribute), inherit: false) is [ResultNotesAttribute notes])
            {
                foreach (string line in notes.Lines)
                {
                    sb.AppendLine($"- {line}");
                }
            }
            else
            {
                if (suite.Contains("Cnn", StringComparison.Ordinal))
                {
                    sb.AppendLine($"- Work: seed CNN, {Cnn.SeedCnn.FlopsBreakdown}; GFLOP/s = batch x that / median time");
                }

                sb.AppendLine("- % of peak: GFLOP/s at the median time over the startup peak of the widest accelerated width");
            }
            sb.AppendLine();
            sb.AppendLine("## Results");
            sb.AppendLine();
            var logger = new AccumulationLogger();
            MarkdownExporter.GitHub.ExportToLog(summary, logger);
            sb.AppendLine(logger.GetLog().Trim());
            sb.AppendLine();
            File.WriteAllText(path, sb.ToString());
            Console.WriteLine($"Results written to {path}");
        }
    }

    /// <summary>The commit the sources came from, with "+ local changes" when the tree is dirty; null without git.</summary>
    public static string? GitCommit(string directory)
    {
        string? head = RunGit(directory, "rev-parse --short HEAD");
        if (head is null)
        {
            return null;
        }

        string? status = RunGit(directory, "status --porcelain --untracked-files=no");
        return string.IsNullOrWhiteSpace(status) ? head : head + " + local changes";
    }

    private static string? RunGit(string directory, string arguments)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = System.Diagnostics.Process.Start(start);
            if (process is null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }

    /// <summary><c>bench/results</c> of the repository this program runs from (created when missing).</summary>
    public static string ResultsDirectory()
    {
        string results = Path.Combine(RepositoryRoot(), "bench", "results");
        Directory.CreateDirectory(results);
        return results;
    }

    /// <summary>The repository this program runs from: the folder with GraphCompiler.sln, searched upwards.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GraphCompiler.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("Cannot find the repository root (GraphCompiler.sln) to write bench/results.");
    }

    private static string Kebab(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool boundary = i > 0 && char.IsUpper(c) && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])));
            if (boundary)
            {
                sb.Append('-');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }
}
