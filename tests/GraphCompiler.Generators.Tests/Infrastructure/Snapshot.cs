using System.Runtime.CompilerServices;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>
/// Snapshot tests with Verify's file convention: the expected text is
/// <c>tests/GraphCompiler.Generators.Tests/Snapshots/{name}.verified.cs</c>, checked in and reviewed;
/// a mismatch writes <c>{name}.received.cs</c> beside it (ignored by git) and fails with a unified diff.
/// <para>
/// To accept new output, run the tests with <c>GRAPHCOMPILER_ACCEPT_SNAPSHOTS=1</c>: every compared
/// snapshot is overwritten with what the test produced, then review the change with <c>git diff</c>.
/// </para>
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "GRAPHCOMPILER_ACCEPT_SNAPSHOTS";

    private const string ProjectFile = "GraphCompiler.Generators.Tests.csproj";

    /// <summary>
    /// Compares <paramref name="actual"/> with the verified snapshot <paramref name="name"/>
    /// (for example <c>"MnistCnn#MnistCnn.g"</c>). Line endings are normalized (see <see cref="Normalize"/>).
    /// </summary>
    public static void Match(string actual, string name, [CallerFilePath] string callerFilePath = "") =>
        MatchIn(SnapshotDirectory(callerFilePath), actual, name, Accepting);

    /// <summary>True when <see cref="AcceptVariable"/> is set to 1 or true.</summary>
    public static bool Accepting =>
        Environment.GetEnvironmentVariable(AcceptVariable) is "1" or "true" or "True" or "TRUE";

    /// <summary>The comparison itself, against an explicit folder (the harness tests use a temporary one).</summary>
    public static void MatchIn(string directory, string actual, string name, bool accept)
    {
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"'{name}' is not usable as a file name.", nameof(name));

        string verifiedPath = Path.Combine(directory, name + ".verified.cs");
        string receivedPath = Path.Combine(directory, name + ".received.cs");
        string received = Normalize(actual);

        if (accept)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, received);
            File.Delete(receivedPath);
            return;
        }

        if (!File.Exists(verifiedPath))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, received);
            Xunit.Assert.Fail(
                $"Snapshot '{name}' has no verified file {verifiedPath}.{Environment.NewLine}" +
                $"The output was written to {receivedPath}. To accept it, run the tests with " +
                $"{AcceptVariable}=1 (or rename the received file to .verified.cs) and review it with git diff.");
        }

        string verified = Normalize(File.ReadAllText(verifiedPath));
        if (verified == received)
        {
            File.Delete(receivedPath); // a stale one from an earlier failure
            return;
        }

        File.WriteAllText(receivedPath, received);
        Xunit.Assert.Fail(
            $"Snapshot '{name}' differs from {verifiedPath}.{Environment.NewLine}" +
            $"Received: {receivedPath}. Accept with {AcceptVariable}=1 if the change is intended.{Environment.NewLine}" +
            SnapshotDiff.Unified(verified, received, name + ".verified.cs", name + ".received.cs"));
    }

    /// <summary>
    /// <c>\n</c> line endings and exactly one final newline, so neither the checkout's line endings nor an
    /// editor's end-of-file habit makes a difference.
    /// </summary>
    public static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n').TrimEnd('\n') + "\n";

    /// <summary>
    /// The Snapshots folder in the source tree (not bin/): found from the calling test file's path, or,
    /// if that path was mapped away by a CI build, by walking up from the test assembly's folder.
    /// </summary>
    private static string SnapshotDirectory(string callerFilePath)
    {
        string? project = FindUp(Path.GetDirectoryName(callerFilePath), dir => File.Exists(Path.Combine(dir, ProjectFile)));
        if (project is null)
        {
            string? root = FindUp(AppContext.BaseDirectory,
                dir => File.Exists(Path.Combine(dir, "tests", "GraphCompiler.Generators.Tests", ProjectFile)));
            project = root is null ? null : Path.Combine(root, "tests", "GraphCompiler.Generators.Tests");
        }
        return project is null
            ? throw new InvalidOperationException($"Cannot find {ProjectFile} above '{callerFilePath}' or '{AppContext.BaseDirectory}'.")
            : Path.Combine(project, "Snapshots");
    }

    private static string? FindUp(string? start, Func<string, bool> found)
    {
        for (string? dir = start; !string.IsNullOrEmpty(dir); dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir) && found(dir)) return dir;
        }
        return null;
    }
}
