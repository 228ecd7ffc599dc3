namespace GraphCompiler.Bench.Infrastructure;

/// <summary>Managed allocation checks outside BenchmarkDotNet (which reports them with its MemoryDiagnoser).</summary>
public static class Allocations
{
    /// <summary>Managed bytes one call allocates on this thread, after warm-up.</summary>
    public static long PerCall(Action call, int calls = 200)
    {
        for (int i = 0; i < 20; i++)
        {
            call();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
    }
}
