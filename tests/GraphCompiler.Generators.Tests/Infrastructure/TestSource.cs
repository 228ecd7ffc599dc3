using System.Collections.Immutable;
using Microsoft.CodeAnalysis.Text;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>A marked span of a test source: where a diagnostic is expected, and optionally which one.</summary>
public readonly record struct MarkedSpan(TextSpan Span, string? Id);

/// <summary>
/// Test source text with the markers of Roslyn's own test kit removed:
/// <c>[|text|]</c> marks a span, <c>{|GC0003:text|}</c> marks a span with the diagnostic ID expected
/// there. Markers may nest. Line endings are normalized to <c>\n</c> first, so spans do not depend on
/// how the test file was checked out.
/// </summary>
public sealed record TestSource(string Text, ImmutableArray<MarkedSpan> Spans)
{
    /// <summary>The usings a model source starts with.</summary>
    public const string ModelUsings = """
        using GraphCompiler;
        using static GraphCompiler.Ops;

        """;

    /// <summary>The only marked span; fails if there is not exactly one.</summary>
    public MarkedSpan Span => Spans.Length == 1
        ? Spans[0]
        : throw new InvalidOperationException($"Expected exactly one marked span, found {Spans.Length}.");

    public static TestSource Parse(string markedText)
    {
        string text = markedText.Replace("\r\n", "\n");
        var clean = new System.Text.StringBuilder(text.Length);
        var open = new Stack<(int Start, string? Id, int MarkerAt)>(); // Id is null for [| |]
        var spans = new List<MarkedSpan>();

        for (int i = 0; i < text.Length; i++)
        {
            if (At(text, i, "[|"))
            {
                open.Push((clean.Length, null, i));
                i++;
            }
            else if (At(text, i, "{|"))
            {
                int colon = text.IndexOf(':', i + 2);
                if (colon < 0 || text.AsSpan(i + 2, colon - i - 2).ContainsAny(" \n{}[]|"))
                    throw new FormatException($"'{{|' at {i} must be followed by an ID and ':' (as in {{|GC0001:text|}}).");
                open.Push((clean.Length, text[(i + 2)..colon], i));
                i = colon;
            }
            else if (At(text, i, "|]") || At(text, i, "|}"))
            {
                bool named = text[i + 1] == '}';
                if (open.Count == 0 || (open.Peek().Id is not null) != named)
                    throw new FormatException($"'{text.Substring(i, 2)}' at {i} does not close the innermost open marker.");
                var (start, id, _) = open.Pop();
                spans.Add(new MarkedSpan(TextSpan.FromBounds(start, clean.Length), id));
                i++;
            }
            else
            {
                clean.Append(text[i]);
            }
        }
        if (open.Count > 0)
            throw new FormatException($"Marker opened at {open.Peek().MarkerAt} is never closed.");

        return new TestSource(clean.ToString(), [.. spans.OrderBy(s => s.Span.Start).ThenBy(s => s.Span.Length)]);
    }

    /// <summary><see cref="Parse"/> of <see cref="ModelUsings"/> followed by <paramref name="markedBody"/>.</summary>
    public static TestSource Model(string markedBody) => Parse(ModelUsings + markedBody);

    /// <summary>The text under a span, for messages and checks.</summary>
    public string this[TextSpan span] => Text.Substring(span.Start, span.Length);

    private static bool At(string text, int i, string marker) => string.CompareOrdinal(text, i, marker, 0, marker.Length) == 0;
}
