using GraphCompiler.Tests.Models;
using GraphCompiler.Tests.Reference;
using GraphCompiler.Tests.Training;
using Xunit;

namespace GraphCompiler.Tests.Parallel;

/// <summary>
/// The thread-safety contract of the README: one <see cref="ParameterSet"/> serves several workspaces, one per
/// thread, for inference; each workspace is single-threaded; nobody writes the parameters while they run. Under it,
/// concurrent results are the sequential ones bit for bit, the first call of each round (which packs the weights)
/// included, and the weights are packed once per change however many threads ask.
/// </summary>
public class ConcurrentWorkspacesTests
{
    private const int Threads = 4, Calls = 12;

    public static TheoryData<string> Models => [nameof(SeedCnn), nameof(LstmClassifier), nameof(GruInitialState), nameof(LstmFinalStates)];

    [Theory]
    [MemberData(nameof(Models))]
    public void Workspaces_on_shared_weights_give_the_sequential_bits_across_weight_changes(string name)
    {
        ParameterSet shared = Create(name, shared: null, maxBatch: 1).Parameters;
        ICompiledModel probe = Create(name, shared, maxBatch: 1);
        int input = probe.InputLength, output = probe.OutputLength;

        // Two rounds with different weights: each round starts unpacked, so its first calls race to pack.
        foreach (int weights in new[] { 1, 2 })
        {
            shared.Initialize(weights);
            var work = Enumerable.Range(0, Threads * Calls).Select(i =>
            {
                int batch = 1 + i % 5;
                return (Batch: batch, X: TestData.Random(batch * input, seed: 1000 * weights + i));
            }).ToArray();

            ICompiledModel sequential = Create(name, shared, maxBatch: 5);
            float[][] expected = [.. work.Select(w =>
            {
                var y = new float[w.Batch * output];
                sequential.Forward(w.X, y);
                return y;
            })];

            shared.MarkModified(); // as after a load: the packed copy is stale again
            var mismatches = new int[Threads];
            using var start = new Barrier(Threads);
            Thread[] workers = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                ICompiledModel workspace = Create(name, shared, maxBatch: 5);
                start.SignalAndWait();
                for (int c = 0; c < Calls; c++)
                {
                    int i = c * Threads + t; // interleaved, so that every thread runs every batch size
                    var y = new float[work[i].Batch * output];
                    workspace.Forward(work[i].X, y);
                    if (!y.AsSpan().SequenceEqual(expected[i]))
                    {
                        mismatches[t]++;
                    }
                }
            }))];
            foreach (Thread w in workers) w.Start();
            foreach (Thread w in workers) w.Join();

            Assert.True(mismatches.All(m => m == 0),
                $"{name}, weights {weights}: calls differing from the sequential results per thread: [{string.Join(", ", mismatches)}]");
        }
    }

    [Fact]
    public unsafe void EnsurePacked_packs_once_per_change_however_many_threads_ask()
    {
        ParameterSet parameters = TestParameters.Small();
        _packLength = parameters.BufferLength;
        foreach (int round in new[] { 1, 2, 3 })
        {
            parameters.MarkModified();
            int before = Volatile.Read(ref _packs);
            var pointers = new nint[Threads * 8];
            using var start = new Barrier(Threads * 8);
            Thread[] workers = [.. Enumerable.Range(0, pointers.Length).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                pointers[t] = (nint)parameters.EnsurePacked(parameters.BufferLength, &CountingPack);
            }))];
            foreach (Thread w in workers) w.Start();
            foreach (Thread w in workers) w.Join();

            Assert.Equal(1, Volatile.Read(ref _packs) - before);
            Assert.Single(pointers.Distinct());
            float* packed = (float*)pointers[0];
            Assert.True(new ReadOnlySpan<float>(packed, parameters.BufferLength).SequenceEqual(parameters.ReadAll()), $"round {round}: the packed copy is not the values");
        }
    }

    private static int _packs, _packLength;

    private static unsafe void CountingPack(float* source, float* packed)
    {
        Interlocked.Increment(ref _packs);
        Thread.Sleep(20); // a slow pack widens the window in which other threads ask
        new ReadOnlySpan<float>(source, _packLength).CopyTo(new Span<float>(packed, _packLength));
    }

    private static ICompiledModel Create(string name, ParameterSet? shared, int maxBatch) => (name, shared) switch
    {
        (nameof(SeedCnn), null) => new SeedCnn(maxBatch, seed: 5),
        (nameof(SeedCnn), _) => new SeedCnn(shared, maxBatch),
        (nameof(LstmClassifier), null) => new LstmClassifier(maxBatch, seed: 5),
        (nameof(LstmClassifier), _) => new LstmClassifier(shared, maxBatch),
        (nameof(GruInitialState), null) => new GruInitialState(maxBatch, seed: 5),
        (nameof(GruInitialState), _) => new GruInitialState(shared, maxBatch),
        (nameof(LstmFinalStates), null) => new LstmFinalStates(maxBatch, seed: 5),
        (nameof(LstmFinalStates), _) => new LstmFinalStates(shared, maxBatch),
        _ => throw new ArgumentException($"No model '{name}'.", nameof(name)),
    };
}
