namespace GraphCompiler;

/// <summary>
/// A small, fast, seedable generator (xoshiro128**, seeded through SplitMix64) whose sequence is fixed
/// by this library, not by the runtime version: the same seed gives the same weights everywhere.
/// </summary>
public struct SeededRandom
{
    private uint _s0, _s1, _s2, _s3;

    public SeededRandom(ulong seed)
    {
        ulong x = seed;
        ulong a = SplitMix(ref x), b = SplitMix(ref x);
        _s0 = (uint)a;
        _s1 = (uint)(a >> 32);
        _s2 = (uint)b;
        _s3 = (uint)(b >> 32);
        if ((_s0 | _s1 | _s2 | _s3) == 0)
        {
            _s0 = 1; // the all-zero state is the one state xoshiro never leaves
        }
    }

    public uint NextUInt()
    {
        uint result = RotateLeft(_s1 * 5, 7) * 9;
        uint t = _s1 << 9;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 11);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 bits of precision.</summary>
    public float NextFloat() => (NextUInt() >> 8) * (1.0f / (1 << 24));

    /// <summary>Uniform in [low, high).</summary>
    public float NextUniform(float low, float high) => low + (high - low) * NextFloat();

    /// <summary>Uniform integer in [0, count).</summary>
    public int NextInt(int count) => (int)(((ulong)NextUInt() * (ulong)count) >> 32);

    /// <summary>Standard normal (Box-Muller).</summary>
    public float NextNormal()
    {
        float u1 = 1.0f - NextFloat(); // (0, 1]: the log stays finite
        float u2 = NextFloat();
        return MathF.Sqrt(-2.0f * MathF.Log(u1)) * MathF.Cos(2.0f * MathF.PI * u2);
    }

    private static uint RotateLeft(uint x, int k) => (x << k) | (x >> (32 - k));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
