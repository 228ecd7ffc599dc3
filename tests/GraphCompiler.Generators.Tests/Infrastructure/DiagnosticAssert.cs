using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>
/// Diagnostics against the markers of a <see cref="TestSource"/>: each marked span must carry exactly
/// its expected diagnostic, and nothing else may be reported. "Reported" means every generator
/// diagnostic except hidden ones, plus the errors and warnings of the compilation after generation
/// (warnings count because a user's build may treat them as errors).
/// </summary>
public static class DiagnosticAssert
{
    /// <summary>
    /// Every span of <paramref name="source"/> carries diagnostic <paramref name="id"/> (or the ID written
    /// in a <c>{|ID:...|}</c> marker), and no other diagnostic is reported. Returns the matched
    /// diagnostics in span order, so the test can check their messages.
    /// </summary>
    public static ImmutableArray<Diagnostic> Reports(
        GeneratorRun run, TestSource source, string? id = null, IEnumerable<string>? ignoredIds = null)
    {
        if (source.Spans.IsEmpty) throw new ArgumentException("The source has no marked spans; use None().", nameof(source));
        var expected = source.Spans.Select(s => s with { Id = s.Id ?? id ?? throw new ArgumentException(
            $"Span {s.Span} has no ID in its marker and no default ID was given.", nameof(id)) }).ToList();

        SyntaxTree? tree = run.SourceTrees.FirstOrDefault(t => t.GetText().ToString() == source.Text)
            ?? throw new ArgumentException("The run was not made from this source's text (pass source.Text to the harness).", nameof(source));

        List<Diagnostic> unmatched = Reported(run, ignoredIds);
        var matched = new List<Diagnostic>();
        var missing = new List<MarkedSpan>();
        foreach (MarkedSpan span in expected)
        {
            int at = unmatched.FindIndex(d => d.Id == span.Id && IsIn(d.Location, tree) && d.Location.SourceSpan == span.Span);
            if (at < 0)
            {
                missing.Add(span);
                continue;
            }
            matched.Add(unmatched[at]);
            unmatched.RemoveAt(at);
        }

        if (missing.Count > 0 || unmatched.Count > 0)
            Xunit.Assert.Fail(Describe(missing, unmatched, source, tree, run.SourceTrees));
        return [.. matched];
    }

    /// <summary>Exactly one marked span, carrying <paramref name="id"/>; returns its diagnostic.</summary>
    public static Diagnostic Single(GeneratorRun run, TestSource source, string id, IEnumerable<string>? ignoredIds = null)
    {
        _ = source.Span; // throws unless exactly one span is marked
        return Reports(run, source, id, ignoredIds)[0];
    }

    /// <summary>Nothing reported at all (ignoring <paramref name="ignoredIds"/>).</summary>
    public static void None(GeneratorRun run, IEnumerable<string>? ignoredIds = null)
    {
        List<Diagnostic> reported = Reported(run, ignoredIds);
        if (reported.Count > 0)
            Xunit.Assert.Fail(Describe([], reported, source: null, tree: null, run.SourceTrees));
    }

    /// <summary>The diagnostics a user would see, in a stable order.</summary>
    private static List<Diagnostic> Reported(GeneratorRun run, IEnumerable<string>? ignoredIds)
    {
        if (!run.Options.CompileOutput)
            throw new ArgumentException("The run did not compile its output (HarnessOptions.CompileOutput is off), so it has no compiler diagnostics to check.", nameof(run));
        var ignored = new HashSet<string>(ignoredIds ?? [], StringComparer.Ordinal);
        return run.GeneratorDiagnostics.Where(d => d.Severity != DiagnosticSeverity.Hidden)
            .Concat(run.CompilationDiagnostics)
            .Where(d => !ignored.Contains(d.Id))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.SourceSpan.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Whether <paramref name="location"/> points into <paramref name="tree"/>. The generator reports at
    /// locations rebuilt from plain data (<c>Location.Create(path, span, lines)</c>, because its spec may hold no
    /// syntax tree), which are external-file locations without a tree: those match by file path.
    /// </summary>
    internal static bool IsIn(Location location, SyntaxTree tree) =>
        location.SourceTree == tree
        || (location.Kind == LocationKind.ExternalFile && location.GetLineSpan().Path == tree.FilePath);

    private static string Describe(
        List<MarkedSpan> missing, List<Diagnostic> unexpected, TestSource? source, SyntaxTree? tree, IEnumerable<SyntaxTree> userTrees)
    {
        var message = new StringBuilder("Diagnostics differ from the expectation.").AppendLine();
        if (missing.Count > 0)
        {
            message.AppendLine("Expected but not reported:");
            foreach (MarkedSpan span in missing)
            {
                LinePosition at = SourceText.From(source!.Text).Lines.GetLinePosition(span.Span.Start);
                message.AppendLine(CultureInfo.InvariantCulture,
                    $"  {span.Id} at {tree!.FilePath}({at.Line + 1},{at.Character + 1}) on '{source[span.Span]}'");
            }
        }
        if (unexpected.Count > 0)
        {
            message.AppendLine(missing.Count > 0 ? "Reported instead (or in addition):" : "Unexpected:");
            foreach (Diagnostic diagnostic in unexpected)
            {
                string text = GeneratorRun.SourceTextAt(diagnostic);
                // A generator location has no tree of its own: show the text of the user's file it names.
                if (text.Length == 0 && userTrees.FirstOrDefault(t => IsIn(diagnostic.Location, t)) is { } file
                    && diagnostic.Location.SourceSpan.End <= file.Length)
                    text = file.GetText().ToString(diagnostic.Location.SourceSpan);
                message.Append("  ").Append(GeneratorRun.Format(diagnostic));
                if (text.Length > 0) message.Append(" (at '").Append(text).Append("')");
                message.AppendLine();
            }
        }
        return message.ToString();
    }
}
