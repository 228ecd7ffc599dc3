using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Parallel;

/// <summary>One set of weights serving several workspaces on several threads at once.</summary>
public class SharedWeightsTests
{
    [Fact]
    public void Concurrent_workspaces_give_the_sequential_results_bit_for_bit()
    {
        const int threads = 4, calls = 40, batch = 3;
        var shared = new SeedCnn(seed: 5).Parameters;
        shared.MarkModified(); // every thread's first call races to build the packed weights
        float[][] inputs = Enumerable.Range(0, threads).Select(i => TestData.Random(batch * SeedCnn.InputSize, seed: 100 + i)).ToArray();

        float[][] sequential = inputs.Select(x =>
        {
            var y = new float[batch * SeedCnn.OutputSize];
            new SeedCnn(shared, batch).Forward(x, y);
            return y;
        }).ToArray();

        shared.MarkModified();
        var mismatches = new int[threads];
        using var start = new Barrier(threads);
        Thread[] workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            var workspace = new SeedCnn(shared, batch);
            var y = new float[batch * SeedCnn.OutputSize];
            start.SignalAndWait();
            for (int c = 0; c < calls; c++)
            {
                workspace.Forward(inputs[i], y);
                if (!y.AsSpan().SequenceEqual(sequential[i]))
                {
                    mismatches[i]++;
                }
            }
        })).ToArray();
        foreach (Thread t in workers)
        {
            t.Start();
        }

        foreach (Thread t in workers)
        {
            t.Join();
        }

        Assert.All(mismatches, m => Assert.Equal(0, m));
    }
}
