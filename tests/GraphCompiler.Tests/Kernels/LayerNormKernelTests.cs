using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;
using static GraphCompiler.Tests.Kernels.KernelReference;

namespace GraphCompiler.Tests.Kernels;

public unsafe class LayerNormKernelTests
{
    public static TheoryData<int, int> Shapes => new() { { 1, 1 }, { 1, 3 }, { 3, 17 }, { 2, 20 }, { 5, 64 }, { 4, 65 }, { 2, 256 } };

    private const float Eps = 1e-5f;

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_double_reference_and_saves_stats(int rows, int n)
    {
        float[] x = TestData.Random(rows * n, 1, 3f), gamma = TestData.Random(n, 2), beta = TestData.Random(n, 3);
        for (int i = 0; i < x.Length; i++) x[i] += 5f; // an offset: the variance must not cancel
        double[] expected = LayerNorm(ToDouble(x), rows, n, ToDouble(gamma), ToDouble(beta), Eps);
        var y = new float[x.Length];
        var stats = new float[2 * rows];
        float[] inPlace = (float[])x.Clone();
        fixed (float* px = x, py = y, pg = gamma, pb = beta, ps = stats, pi = inPlace)
        {
            LayerNormKernel.Forward(px, py, rows, n, pg, pb, Eps, ps);
            LayerNormKernel.Forward(pi, pi, rows, n, pg, pb, Eps, null);
        }

        Close.Assert(ToFloat(expected), y, 1e-5, 1e-5);
        Assert.Equal(y, inPlace);
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < n; j++) mean += x[r * n + j];
            mean /= n;
            for (int j = 0; j < n; j++) variance += (x[r * n + j] - mean) * (x[r * n + j] - mean);
            Assert.Equal(mean, stats[2 * r], 1e-5);
            Assert.Equal(1 / Math.Sqrt(variance / n + Eps), stats[2 * r + 1], 1e-3 / Math.Sqrt(variance / n + Eps));
        }
    }

    [Fact]
    public void Forward_without_affine_is_plain_normalization()
    {
        float[] x = TestData.Random(3 * 19, 4);
        var y = new float[x.Length];
        fixed (float* px = x, py = y)
        {
            LayerNormKernel.Forward(px, py, 3, 19, null, null, Eps, null);
        }

        Close.Assert(ToFloat(LayerNorm(ToDouble(x), 3, 19, null, null, Eps)), y, 1e-5, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_matches_finite_differences(int rows, int n)
    {
        foreach (bool accumulate in new[] { false, true })
        foreach (bool aliasDy in new[] { false, true })
        {
            float[] x = TestData.Random(rows * n, 5, 2f), gamma = TestData.Random(n, 6), beta = TestData.Random(n, 7);
            float[] dy = TestData.Random(rows * n, 8);
            var stats = new float[2 * rows];
            var y = new float[x.Length];
            float[] dxStart = TestData.Random(x.Length, 9);
            float[] dx = aliasDy ? (float[])dy.Clone() : (float[])dxStart.Clone();
            float[] dgamma = TestData.Random(n, 10), dbeta = TestData.Random(n, 11);
            float[] dgammaStart = (float[])dgamma.Clone(), dbetaStart = (float[])dbeta.Clone();
            fixed (float* px = x, py = y, pg = gamma, pb = beta, ps = stats, pdy = dy, pdx = dx, pdg = dgamma, pdb = dbeta)
            {
                LayerNormKernel.Forward(px, py, rows, n, pg, pb, Eps, ps);
                LayerNormKernel.Backward(px, aliasDy ? pdx : pdy, ps, pg, rows, n, pdx, accumulate, pdg, pdb);
            }

            double[] xd = ToDouble(x), gd = ToDouble(gamma), bd = ToDouble(beta);
            double Loss() => Project(LayerNorm(xd, rows, n, gd, bd, Eps), dy);
            var expectedDx = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
                expectedDx[i] = (float)(FiniteDifference.Central(xd, i, Loss) + (accumulate ? (aliasDy ? dy[i] : dxStart[i]) : 0));
            var expectedDg = new float[n];
            var expectedDb = new float[n];
            for (int j = 0; j < n; j++)
            {
                expectedDg[j] = (float)(FiniteDifference.Central(gd, j, Loss) + dgammaStart[j]);
                expectedDb[j] = (float)(FiniteDifference.Central(bd, j, Loss) + dbetaStart[j]);
            }

            string what = $"rows {rows} n {n} acc {accumulate} alias {aliasDy}";
            Close.Assert(expectedDx, dx, 1e-4, 1e-4, what + " dx");
            Close.Assert(expectedDg, dgamma, 1e-4, 1e-4, what + " dgamma");
            Close.Assert(expectedDb, dbeta, 1e-4, 1e-4, what + " dbeta");
        }
    }
}
