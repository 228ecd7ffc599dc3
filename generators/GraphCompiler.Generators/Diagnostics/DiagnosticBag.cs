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

    public void Add(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
        _items.Add(new DiagnosticInfo(descriptor.Id, location, arguments.ToEquatableArray()));

    public void AddRange(IEnumerable<DiagnosticInfo> items) => _items.AddRange(items);

    public static Diagnostic ToDiagnostic(DiagnosticInfo info) =>
        Diagnostic.Create(
            DiagnosticDescriptors.Get(info.Id),
            info.Location?.ToLocation() ?? Location.None,
            info.Arguments.Cast<object>().ToArray());
}
