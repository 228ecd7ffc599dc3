namespace GraphCompiler.Tests.Reference;

/// <summary>Deterministic test inputs.</summary>
public static class TestData
{
    /// <summary>
    /// <paramref name="n"/> values uniform in [-scale, scale). The same seed gives the same values on
    /// every machine and run (<see cref="System.Random(int)"/> with a seed uses a fixed algorithm).
    /// </summary>
    public static float[] Random(int n, int seed, float scale = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var rng = new Random(seed);
        var data = new float[n];
        for (int i = 0; i < n; i++)
            data[i] = (float)((rng.NextDouble() * 2.0 - 1.0) * scale);
        return data;
    }
}
