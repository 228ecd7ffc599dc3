using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>
/// The incremental-cache boundary check: a spec that holds a symbol, a syntax node or a compilation
/// keeps the whole compilation alive and never compares equal across edits, which silently disables
/// caching. This walks an object graph by reflection and fails on any such object, naming the path.
/// </summary>
public static class SpecPurity
{
    /// <summary>Roslyn types that must not survive past the parse stage.</summary>
    private static readonly Type[] Forbidden =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel),
        typeof(Location),
        // Not in the list above only because they are structs or wrappers; each one pins a tree or a compilation.
        typeof(SyntaxToken), typeof(SyntaxTrivia), typeof(SyntaxNodeOrToken), typeof(SyntaxReference),
        typeof(AttributeData), typeof(IOperation),
    ];

    public static void AssertNoRoslynObjects(object root, string rootName = "root")
    {
        IReadOnlyList<string> found = FindRoslynObjects(root, rootName);
        if (found.Count > 0)
        {
            Xunit.Assert.Fail($"The spec holds {found.Count} Roslyn object(s); specs must be plain data:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", found.Take(20)));
        }
    }

    /// <summary>Checks every output of each named tracked step of a run (the spec-producing steps).</summary>
    public static void AssertStepOutputsPure(GeneratorRun run, params string[] stepNames)
    {
        foreach (string step in stepNames)
        {
            var outputs = run.StepOutputs(step);
            for (int i = 0; i < outputs.Length; i++)
                AssertNoRoslynObjects(outputs[i], $"{step}[{i}]");
        }
    }

    /// <summary>Paths (<c>root.Layers[2].Attribute</c>) of every forbidden object reachable from <paramref name="root"/>.</summary>
    public static IReadOnlyList<string> FindRoslynObjects(object? root, string rootName = "root")
    {
        var found = new List<string>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        // An explicit stack instead of recursion: long linked structures must not overflow the test's stack.
        var pending = new Stack<(object? Value, string Path)>();
        pending.Push((root, rootName));

        while (pending.Count > 0)
        {
            var (value, path) = pending.Pop();
            if (value is null) continue;
            Type type = value.GetType();
            if (IsLeaf(type)) continue;
            if (!type.IsValueType && !visited.Add(value)) continue; // cycles and shared objects

            if (Forbidden.FirstOrDefault(f => f.IsInstanceOfType(value)) is { } hit)
            {
                found.Add($"{path}: {hit.Name} ({type.Name}) {Describe(value)}");
                continue;
            }

            // Children are pushed in reverse so they are reported in declaration order.
            var children = new List<(object?, string)>();
            bool enumerated = false;
            if (value is IEnumerable sequence)
            {
                try
                {
                    int i = 0;
                    foreach (object? element in sequence) children.Add((element, $"{path}[{i++}]"));
                    enumerated = true;
                }
                catch (Exception e) when (e is InvalidOperationException or NullReferenceException)
                {
                    // A default ImmutableArray cannot be enumerated; its fields are walked below.
                }
            }
            // The fields of an enumerated BCL collection are only its storage again; those of the
            // project's own collections (EquatableArray) may hold more, so they are walked too.
            bool storageOnly = enumerated && (type.IsArray || type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true);
            if (!storageOnly)
            {
                foreach (FieldInfo field in InstanceFields(type))
                {
                    if (field.FieldType.IsPointer) continue;
                    children.Add((field.GetValue(value), $"{path}.{FieldName(field)}"));
                }
            }
            for (int i = children.Count - 1; i >= 0; i--) pending.Push(children[i]);
        }
        return found;
    }

    /// <summary>Types that cannot hold a Roslyn object, or whose insides are not the spec's business.</summary>
    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type.IsPointer
        || type == typeof(string) || type == typeof(decimal) || type == typeof(DateTime) || type == typeof(DateTimeOffset)
        || type == typeof(TimeSpan) || type == typeof(Guid) || type == typeof(IntPtr) || type == typeof(UIntPtr)
        || typeof(MemberInfo).IsAssignableFrom(type) || type == typeof(Pointer);

    /// <summary>All instance fields, including private ones of base classes (auto-property backing fields included).</summary>
    private static IEnumerable<FieldInfo> InstanceFields(Type type)
    {
        for (Type? t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                yield return field;
        }
    }

    /// <summary><c>&lt;Layers&gt;k__BackingField</c> reads as <c>Layers</c>, the record property it backs.</summary>
    private static string FieldName(FieldInfo field) =>
        field.Name.StartsWith('<') && field.Name.IndexOf('>') is > 1 and var end ? field.Name[1..end] : field.Name;

    private static string Describe(object value)
    {
        try
        {
            string text = value.ToString() ?? "";
            return text.Length > 60 ? $"'{text[..60]}...'" : $"'{text}'";
        }
        catch (Exception)
        {
            return ""; // a describe failure must not hide the finding
        }
    }
}
