using GraphCompiler.Tests.IO;

/// <summary>
/// Entry point of the child process of <see cref="CrashDuringSaveTests"/>: the runtime calls <c>Initialize</c> of the
/// type named <c>StartupHook</c> (global namespace) in each assembly listed in <c>DOTNET_STARTUP_HOOKS</c>, before
/// <c>Main</c>. Without the test's environment variable it does nothing.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        string? path = Environment.GetEnvironmentVariable(CrashDuringSaveTests.PathVariable);
        if (path is not null)
        {
            CrashDuringSaveTests.RunChild(path);
        }
    }
}
