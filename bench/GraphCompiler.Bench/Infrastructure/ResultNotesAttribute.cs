namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// Lines that <c>--save-results</c> writes under the machine description of a suite's result file, in
/// place of the compute suites' notes on FLOPs and % of peak.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ResultNotesAttribute(params string[] lines) : Attribute
{
    public IReadOnlyList<string> Lines { get; } = lines;
}
