using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>
/// Assertions on the incremental cache. Typical use: run, make an unrelated edit with
/// <see cref="GeneratorRun.RerunWithAddedSource"/> or <see cref="GeneratorRun.RerunWithReplacedSource"/>,
/// then assert that the spec steps and the outputs were not recomputed.
/// </summary>
public static class IncrementalAssert
{
    /// <summary>Every output of each named step is <c>Cached</c> or <c>Unchanged</c> (nothing New, Modified or Removed).</summary>
    public static void CachedOrUnchanged(GeneratorRun run, params string[] stepNames)
    {
        if (stepNames.Length == 0) throw new ArgumentException("Name the steps to check.", nameof(stepNames));
        foreach (string step in stepNames)
        {
            var reasons = run.StepReasons(step);
            if (reasons.IsEmpty || reasons.Any(r => !IsReused(r)))
                Fail($"step '{step}' was recomputed: [{string.Join(", ", reasons)}]", run);
        }
    }

    /// <summary>No output step (source or diagnostics output) produced a New, Modified or Removed result.</summary>
    public static void OutputsCachedOrUnchanged(GeneratorRun run)
    {
        var reasons = run.OutputReasons();
        if (reasons.Any(r => !IsReused(r)))
            Fail($"outputs were recomputed: [{string.Join(", ", reasons)}]", run);
    }

    /// <summary>The reasons of step <paramref name="stepName"/> are exactly <paramref name="expected"/>, in order.</summary>
    public static void StepReasons(GeneratorRun run, string stepName, params IncrementalStepRunReason[] expected)
    {
        var actual = run.StepReasons(stepName);
        if (!actual.SequenceEqual(expected))
            Fail($"step '{stepName}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]", run);
    }

    private static bool IsReused(IncrementalStepRunReason reason) =>
        reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged;

    private static void Fail(string what, GeneratorRun run) =>
        Xunit.Assert.Fail($"Incremental cache: {what}.{Environment.NewLine}All tracked steps:{Environment.NewLine}{run.DescribeSteps()}");
}
