namespace GraphCompiler;

/// <summary>
/// A safetensors file or checkpoint that cannot be read or does not fit the model. The message names the file and,
/// for each problem found, the tensor and what was wrong; nothing was written to the model or the optimizer.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception for one or more problems of <paramref name="path"/>.</summary>
    public CheckpointException(string path, IReadOnlyList<string> problems, Exception? inner = null)
        : base(Format(path, problems), inner)
    {
        Path = path;
        Problems = problems;
    }

    /// <summary>Creates the exception for one problem of <paramref name="path"/>.</summary>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : this(path, [problem], inner)
    {
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Each problem on its own, e.g. <c>tensor 'fc1.weight': shape [128, 3136] expected, the file has [128, 1600]</c>.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(string path, IReadOnlyList<string> problems) =>
        problems.Count == 1
            ? $"Checkpoint '{path}': {problems[0]}"
            : $"Checkpoint '{path}' has {problems.Count} problems:{Environment.NewLine}  " +
              string.Join(Environment.NewLine + "  ", problems);
}
