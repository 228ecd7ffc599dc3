using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using GraphCompiler.Bench.Infrastructure;

namespace GraphCompiler.Bench.Peak;

/// <summary>
/// The machine's physical limit on one core: 12 independent FMA chains per vector width. GFLOP/s counts
/// 2 flops per lane per FMA. The % column is relative to the startup measurement of the widest
/// accelerated width (<see cref="MachinePeak"/>), a consistency check between the two measurements.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class PeakFma
{
    /// <summary>FMAs per chain per call: ~0.1 ms per call at any width.</summary>
    public const long Iterations = 1 << 16;

    [Benchmark]
    public float Vector512() => FmaKernels.Vector512Chains(Iterations);

    [Benchmark]
    public float Vector256() => FmaKernels.Vector256Chains(Iterations);

    [Benchmark]
    public float Vector128() => FmaKernels.Vector128Chains(Iterations);

    [Benchmark]
    public float Scalar() => FmaKernels.ScalarChains(Iterations);

    /// <summary>Floating-point operations of one call of a benchmark of this class.</summary>
    public static double FlopsPerCall(BenchmarkCase benchmark) => benchmark.Descriptor.WorkloadMethod.Name switch
    {
        nameof(Vector512) => FmaKernels.Flops(Iterations, 16),
        nameof(Vector256) => FmaKernels.Flops(Iterations, 8),
        nameof(Vector128) => FmaKernels.Flops(Iterations, 4),
        nameof(Scalar) => FmaKernels.Flops(Iterations, 1),
        _ => double.NaN,
    };

    private sealed class Config : FlopsConfig
    {
        public Config()
            : base(FlopsPerCall)
        {
        }
    }
}
