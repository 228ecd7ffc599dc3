namespace GraphCompiler.Tests.Training;

/// <summary>Builds small parameter layouts the way the generator does (offsets rounded up to 16 floats).</summary>
internal static class TestParameters
{
    public static ParameterSet Create(int seed, params (string Name, int[] Shape)[] tensors)
    {
        var layout = new List<ParameterInfo>();
        int offset = 0;
        foreach ((string name, int[] shape) in tensors)
        {
            var info = new ParameterInfo(name, shape, offset, ParameterInit.Uniform, 0.5f);
            layout.Add(info);
            offset = (offset + info.Length + 15) / 16 * 16;
        }

        return new ParameterSet(layout, seed);
    }

    /// <summary>53 floats: the 512-bit loop covers 48, the 128-bit loop 4, the scalar tail 1.</summary>
    public static ParameterSet Small(int seed = 1) => Create(seed, ("fc.weight", [5, 7]), ("fc.bias", [5]));

    public static float[] RandomGradient(ParameterSet parameters, int seed)
    {
        var rng = new SeededRandom((ulong)seed);
        var g = new float[parameters.BufferLength];
        foreach (ParameterInfo p in parameters.Layout)
        {
            for (int i = 0; i < p.Length; i++)
            {
                g[p.Offset + i] = rng.NextNormal();
            }
        }

        return g;
    }
}
