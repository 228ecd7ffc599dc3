using System.Reflection;
using System.Runtime.Loader;

namespace GraphCompiler.Generators.Tests.Infrastructure;

/// <summary>A compiled test assembly in its own collectible load context; <see cref="Dispose"/> unloads it.</summary>
public sealed class LoadedAssembly(AssemblyLoadContext context, Assembly assembly) : IDisposable
{
    public Assembly Assembly { get; } = assembly;

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
