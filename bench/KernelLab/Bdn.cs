using BenchmarkDotNet.Attributes;

namespace KernelLab;

/// <summary>BenchmarkDotNet cross-check of the winners of the Stopwatch lab
/// (`dotnet run -c Release --project bench/KernelLab -- --bdn --filter '*' --job short`).</summary>
[MemoryDiagnoser]
public unsafe class WinnerBench
{
    float* _x1, _c1, _a2, _x64, _h, _scratch;

    [GlobalSetup]
    public void Setup()
    {
        Model.Init();
        _x1 = Model.Alloc(30 * 30);
        for (int i = 0; i < 900; i++) _x1[i] = (i % 7) * 0.1f;
        _c1 = Model.Alloc(16 * 16 * 32);
        for (int i = 0; i < 16 * 16 * 32; i++) _c1[i] = (i % 11) * 0.05f;
        _a2 = Model.Alloc(3136);
        _x64 = Model.Alloc(64 * 3136);
        for (int i = 0; i < 64 * 3136; i++) _x64[i] = (i % 13) * 0.01f;
        _h = Model.Alloc(64 * 128);
        _scratch = Model.Alloc(64 * 128);
    }

    [Benchmark] public void Conv1_2x2c2_512() => Conv1K.Conv1_2x2c2_taps_512_mxn(_x1, Model.W1p, Model.B1p, _c1);
    [Benchmark] public void Conv2_2x2c4_nested_512() => Conv2K.Conv2_2x2c4_nested_u1_512_bump_mxn(_c1, Model.W2p, Model.B2p, _a2);
    [Benchmark] public void Conv2_2x2c4_nested_256() => Conv2K.Conv2_2x2c4_nested_u1_256_bump_mxn(_c1, Model.W2p, Model.B2p, _a2);
    [Benchmark] public void Conv2_2x2c2_nested_256() => Conv2K.Conv2_2x2c2_nested_u1_256_bump_mxn(_c1, Model.W2p, Model.B2p, _a2);
    [Benchmark] public void Fc1b1_dot_1x2_512() => LinK.Fc1b1_dot_1x2_512(_x64, Model.Fw1Dot, Model.Fb1p, _h);
    [Benchmark] public void Fc1b64_kn_8x2v_512() => LinK.Fc1b64_kn_8x2v_kc196_512(_x64, Model.Fw1Kn, Model.Fb1p, _h);
}
