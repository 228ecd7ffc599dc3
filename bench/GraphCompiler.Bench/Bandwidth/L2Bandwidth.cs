using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using GraphCompiler.Bench.Infrastructure;

namespace GraphCompiler.Bench.Bandwidth;

/// <summary>
/// Read bandwidth on one core by buffer size: the yardstick of the batch-1 LSTM, which reads its recurrent
/// weights (4H x H floats per layer, 256 KB for the seed's H = 128; 512 KB for both layers) once per step
/// from L2. Each call sweeps a buffer of <see cref="KiB"/> KiB front to back with aligned loads, as many
/// times as make about 4 MB (<see cref="ReadBuffer.BytesPerCall"/>); GB/s = bytes read / median time.
/// 16 KiB stays in L1 and 8 MiB falls out of L2: the two bounds around the L2 figures. One thread.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
[ResultNotes(
    "Each call sweeps the buffer front to back with aligned vector loads into 8 independent accumulators, as many times as make about 4 MB; nothing is written.",
    "GB/s: 10^9 bytes read per second at the median time. The buffer is warm: after the first sweep it sits in the smallest cache that holds it.",
    "16 KiB fits L1; 256 KiB is one LSTM layer's recurrent weights (4 x 128 x 128 floats) and 512 KiB both layers': in L2; 8 MiB is beyond L2.",
    "The batch-1 LSTM streams its recurrent weights at these sizes once per step: its achieved bytes/s over the 256 KiB (or 512 KiB) figure is how close it comes to the limit (peers.md).")]
public unsafe class L2Bandwidth
{
    private ReadBuffer? _buffer;

    /// <summary>Buffer size in KiB.</summary>
    [Params(16, 256, 512, 8192)]
    public int KiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = new ReadBuffer(KiB * 1024);
        _buffer.Read();
    }

    /// <summary>512-bit loads: the widest, what the generated kernels use with AVX-512.</summary>
    [Benchmark(Baseline = true)]
    public float Vector512() => ReadKernels.Vector512Read(_buffer!.Pointer, _buffer.Floats, _buffer.Passes);

    /// <summary>256-bit loads: twice the load instructions for the same bytes.</summary>
    [Benchmark]
    public float Vector256() => ReadKernels.Vector256Read(_buffer!.Pointer, _buffer.Floats, _buffer.Passes);

    [GlobalCleanup]
    public void Cleanup() => _buffer?.Dispose();

    /// <summary>Bytes one call reads.</summary>
    public static double BytesPerCall(BenchmarkCase benchmark)
    {
        long bytes = (int)benchmark.Parameters["KiB"] * 1024L;
        return bytes * Math.Max(1, ReadBuffer.BytesPerCall / bytes);
    }

    private sealed class Config : BandwidthConfig
    {
        public Config()
            : base(BytesPerCall)
        {
        }
    }
}
