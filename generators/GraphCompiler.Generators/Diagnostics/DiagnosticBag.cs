using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Spec;
using Microsoft.CodeAnalysis;

namespace GraphCompiler.Generators.Diagnostics;

/// <summary>Collects diagnostics as plain data (no Roslyn objects), in the order they were found.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<DiagnosticInfo> _items = new();

    public IReadOnlyList<DiagnosticInfo> Items => _items;

    public bool HasErrors => _items.Any(d => DiagnosticDescriptors.Get(d.Id).DefaultSeverity == DiagnosticSeverity.Error);

    /// <summary>
    /// Adds a diagnostic unless the same one (ID, location, message) is already here: the body of an unrolled for
    /// loop is read once per iteration, and its mistakes must be reported once.
    /// </summary>
    public void Add(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments)
    {
        var info = new DiagnosticInfo(descriptor.Id, location, arguments.ToEquatableArray());
        if (!_items.Contains(info))
        {
            _items.Add(info);
        }
    }

    public void AddRange(IEnumerable<DiagnosticInfo> items) => _items.AddRange(items);

    public static Diagnostic ToDiagnostic(DiagnosticInfo info) =>
        Diagnostic.Create(
            DiagnosticDescriptors.Get(info.Id),
            info.Location?.ToLocation() ?? Location.None,
            info.Arguments.Cast<object>().ToArray());
}
