namespace GraphCompiler.Tests.Reference;

/// <summary>
/// Managed bytes a piece of work allocates on the calling thread once it runs in the steady state. The runtime's
/// tiering can allocate on the calling thread the first time a method crosses its call-count threshold (it hands
/// the method to the background compiler), so a call that happens to cross it is not the library allocating:
/// <see cref="SteadyState"/> warms up past the threshold, lets the promotions land, and only then counts.
/// </summary>
public static class Allocations
{
    /// <summary>Bytes allocated by <paramref name="measured"/> calls of <paramref name="work"/> after the warm-up.</summary>
    public static long SteadyState(Action work, int warmup = 40, int measured = 3)
    {
        for (int i = 0; i < warmup; i++)
        {
            work();
        }

        Thread.Sleep(200);
        for (int i = 0; i < 3; i++)
        {
            work();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < measured; i++)
        {
            work();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
