using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using System.Runtime.Loader;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>A compiled test assembly in its own collectible load context; <see cref="Dispose"/> unloads it.</summary>
public sealed class LoadedAssembly(AssemblyLoadContext context, Assembly assembly, ImmutableArray<Diagnostic> emitDiagnostics = default) : IDisposable
{
    public Assembly Assembly { get; } = assembly;

    /// <summary>
    /// The warnings (and hidden or info diagnostics) of the emit that built the assembly, without any analyzer or
    /// suppressor: a way to check the generated code for warnings without compiling it a second time.
    /// </summary>
    public ImmutableArray<Diagnostic> EmitDiagnostics { get; } = emitDiagnostics.IsDefault ? [] : emitDiagnostics;

    public Type GetType(string fullName) =>
        Assembly.GetType(fullName, throwOnError: false)
        ?? throw new Xunit.Sdk.XunitException(
            $"Type '{fullName}' is not in the compiled assembly. Types: [{string.Join(", ", Assembly.GetTypes().Select(t => t.FullName))}]");

    /// <summary>Creates an instance through a public or non-public constructor matching <paramref name="args"/>.</summary>
    public object CreateInstance(string fullName, params object?[] args) =>
        Activator.CreateInstance(GetType(fullName), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic,
            binder: null, args, culture: null)!;

    public void Dispose() => context.Unload();
}
