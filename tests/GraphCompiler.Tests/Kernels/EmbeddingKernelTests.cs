using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

public unsafe class EmbeddingKernelTests
{
    [Theory]
    [InlineData(1, 1, 1f)]
    [InlineData(5, 3, 1f)]
    [InlineData(12, 17, 4.1231055f)]
    [InlineData(20, 64, 8f)]
    [InlineData(7, 65, 0.5f)]
    public void Forward_looks_up_scales_and_adds_positions(int count, int dim, float scale)
    {
        const int vocab = 11;
        float[] weight = TestData.Random(vocab * dim, 1), positional = TestData.Random(count * dim, 2);
        int[] tokens = Enumerable.Range(0, count).Select(t => (t * 7 + 3) % vocab).ToArray();
        var plain = new float[count * dim];
        var withPositions = new float[count * dim];
        fixed (int* pt = tokens)
        fixed (float* pw = weight, pp = positional, py = plain, pyp = withPositions)
        {
            EmbeddingKernel.Forward(pt, count, pw, dim, scale, null, py);
            EmbeddingKernel.Forward(pt, count, pw, dim, scale, pp, pyp);
        }

        var expected = new float[count * dim];
        var expectedPositions = new float[count * dim];
        for (int t = 0; t < count; t++)
        for (int d = 0; d < dim; d++)
        {
            expected[t * dim + d] = (float)((double)weight[tokens[t] * dim + d] * scale);
            expectedPositions[t * dim + d] = (float)((double)weight[tokens[t] * dim + d] * scale + positional[t * dim + d]);
        }

        Close.Assert(expected, plain, 1e-6, 0);
        Close.Assert(expectedPositions, withPositions, 1e-6, 1e-7);
    }

    [Fact]
    public void Backward_matches_finite_differences_and_adds_repeated_tokens()
    {
        const int vocab = 6, dim = 19, count = 9;
        const float scale = 2.5f;
        int[] tokens = [1, 4, 1, 0, 5, 1, 4, 2, 2]; // token 3 unused: its gradient row keeps its value
        float[] weight = TestData.Random(vocab * dim, 3), positional = TestData.Random(count * dim, 4), dy = TestData.Random(count * dim, 5);
        float[] dWeight = TestData.Random(vocab * dim, 6), start = (float[])dWeight.Clone();
        fixed (int* pt = tokens)
        fixed (float* pdy = dy, pdw = dWeight)
        {
            EmbeddingKernel.Backward(pt, count, pdy, dim, scale, pdw);
        }

        double[] w = Array.ConvertAll(weight, v => (double)v);
        double Loss()
        {
            double s = 0;
            for (int t = 0; t < count; t++)
            for (int d = 0; d < dim; d++)
                s += (w[tokens[t] * dim + d] * scale + positional[t * dim + d]) * dy[t * dim + d];
            return s;
        }

        var expected = new float[vocab * dim];
        for (int i = 0; i < expected.Length; i++) expected[i] = (float)(FiniteDifference.Central(w, i, Loss) + start[i]);
        Close.Assert(expected, dWeight, 1e-5, 1e-5);
        for (int d = 0; d < dim; d++) Assert.Equal(start[3 * dim + d], dWeight[3 * dim + d]);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(10, 64)]
    [InlineData(50, 7)]
    public void Sinusoidal_is_the_transformer_table(int length, int dim)
    {
        var table = new float[length * dim];
        fixed (float* pt = table)
        {
            EmbeddingKernel.Sinusoidal(pt, length, dim);
        }

        for (int p = 0; p < length; p++)
        for (int i = 0; 2 * i < dim; i++)
        {
            double angle = p / Math.Pow(10000, 2.0 * i / dim);
            Assert.Equal((float)Math.Sin(angle), table[p * dim + 2 * i]);
            if (2 * i + 1 < dim) Assert.Equal((float)Math.Cos(angle), table[p * dim + 2 * i + 1]);
        }

        Assert.Equal(0f, table[0]);
        if (dim > 1) Assert.Equal(1f, table[1]);
    }
}
