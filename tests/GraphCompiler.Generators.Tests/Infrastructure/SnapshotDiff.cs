using System.Text;
using DiffPlex.Renderer;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>Unified diff of two texts, cut after a number of changed lines so a failure message stays readable.</summary>
public static class SnapshotDiff
{
    public const int DefaultMaxChangedLines = 60;

    public static string Unified(
        string expected, string actual, string expectedName = "verified", string actualName = "received",
        int maxChangedLines = DefaultMaxChangedLines, int contextLines = 3)
    {
        string diff = new UnidiffRenderer(contextLines: contextLines).Generate(
            Snapshot.Normalize(expected), Snapshot.Normalize(actual), expectedName, actualName,
            ignoreWhitespace: false, ignoreCase: false);

        var output = new StringBuilder();
        int changed = 0, omitted = 0;
        foreach (string line in diff.Replace("\r\n", "\n").Split('\n'))
        {
            bool header = line.StartsWith("--- ", StringComparison.Ordinal) || line.StartsWith("+++ ", StringComparison.Ordinal);
            bool isChange = !header && (line.StartsWith('+') || line.StartsWith('-'));
            if (changed >= maxChangedLines)
            {
                if (isChange) omitted++;
                continue;
            }
            if (isChange) changed++;
            output.Append(line).Append('\n');
        }
        if (omitted > 0) output.Append("... ").Append(omitted).Append(" more changed lines not shown\n");
        return output.ToString().TrimEnd('\n');
    }
}
