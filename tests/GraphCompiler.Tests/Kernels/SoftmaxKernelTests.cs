using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;
using static GraphCompiler.Tests.Kernels.KernelReference;

namespace GraphCompiler.Tests.Kernels;

public unsafe class SoftmaxKernelTests
{
    public static TheoryData<int, int> Shapes => new() { { 1, 1 }, { 2, 3 }, { 3, 17 }, { 2, 20 }, { 4, 64 }, { 3, 65 }, { 2, 1000 } };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LogSoftmax_matches_double_reference_in_and_out_of_place(int rows, int n)
    {
        float[] x = TestData.Random(rows * n, 1, 8f);
        x[0] = 60f; // a large logit: the max must be subtracted
        var y = new float[x.Length];
        float[] inPlace = (float[])x.Clone();
        fixed (float* px = x, py = y, pi = inPlace)
        {
            SoftmaxKernel.LogSoftmax(px, py, rows, n);
            SoftmaxKernel.LogSoftmax(pi, pi, rows, n);
        }

        Close.Assert(ToFloat(LogSoftmax(ToDouble(x), rows, n)), y, 1e-6, 1e-5);
        Assert.Equal(y, inPlace);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LogSoftmaxBackward_matches_finite_differences(int rows, int n)
    {
        foreach (bool accumulate in new[] { false, true })
        {
            float[] x = TestData.Random(rows * n, 2, 3f), dy = TestData.Random(rows * n, 3);
            float[] dx = TestData.Random(rows * n, 4), dxStart = (float[])dx.Clone();
            var y = new float[x.Length];
            fixed (float* px = x, py = y, pdy = dy, pdx = dx)
            {
                SoftmaxKernel.LogSoftmax(px, py, rows, n);
                SoftmaxKernel.LogSoftmaxBackward(py, pdy, pdx, rows, n, accumulate);
            }

            double[] xd = ToDouble(x);
            var expected = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
                expected[i] = (float)(FiniteDifference.Central(xd, i, () => Project(LogSoftmax(xd, rows, n), dy)) + (accumulate ? dxStart[i] : 0));
            Close.Assert(expected, dx, 1e-4, 1e-4, $"rows {rows} n {n} acc {accumulate}");
        }
    }

    [Fact]
    public void LogSoftmaxBackward_may_write_over_dy()
    {
        const int rows = 3, n = 37;
        float[] x = TestData.Random(rows * n, 5, 2f), dy = TestData.Random(rows * n, 6);
        var y = new float[x.Length];
        var dx = new float[x.Length];
        float[] aliased = (float[])dy.Clone();
        fixed (float* px = x, py = y, pdy = dy, pdx = dx, pa = aliased)
        {
            SoftmaxKernel.LogSoftmax(px, py, rows, n);
            SoftmaxKernel.LogSoftmaxBackward(py, pdy, pdx, rows, n, false);
            SoftmaxKernel.LogSoftmaxBackward(py, pa, pa, rows, n, false);
        }

        Assert.Equal(dx, aliased);
        Assert.NotEqual(dy, dx);
    }
}
