using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

public unsafe class DropoutKernelTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void Keeps_about_one_minus_p_and_scales_the_kept(float p)
    {
        const int n = 200_003;
        float[] x = TestData.Random(n, 1);
        var y = new float[n];
        fixed (float* px = x, py = y)
        {
            DropoutKernel.Forward(px, py, n, p, 42);
        }

        int kept = 0;
        for (int e = 0; e < n; e++)
        {
            bool keep = DropoutMask.Keep(42, e, p);
            Assert.Equal(keep ? x[e] * (1f / (1f - p)) : 0f, y[e]);
            if (keep) kept++;
        }

        double fraction = (double)kept / n, sigma = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange(fraction, 1 - p - 5 * sigma, 1 - p + 5 * sigma);
    }

    [Fact]
    public void Same_seed_same_mask_other_seed_other_mask_and_in_place_works()
    {
        const int n = 1001;
        float[] x = TestData.Random(n, 2);
        float[] a = new float[n], b = new float[n], c = new float[n], inPlace = (float[])x.Clone();
        fixed (float* px = x, pa = a, pb = b, pc = c, pi = inPlace)
        {
            DropoutKernel.Forward(px, pa, n, 0.3f, 7);
            DropoutKernel.Forward(px, pb, n, 0.3f, 7);
            DropoutKernel.Forward(px, pc, n, 0.3f, 8);
            DropoutKernel.Forward(pi, pi, n, 0.3f, 7);
        }

        Assert.Equal(a, b);
        Assert.Equal(a, inPlace);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Backward_applies_the_forward_mask()
    {
        const int n = 517;
        const float p = 0.4f;
        float[] x = TestData.Random(n, 3), dy = TestData.Random(n, 4);
        var y = new float[n];
        float[] dx = TestData.Random(n, 5), start = (float[])dx.Clone();
        fixed (float* px = x, py = y, pdy = dy, pdx = dx)
        {
            DropoutKernel.Forward(px, py, n, p, 99);
            DropoutKernel.Backward(pdy, pdx, n, p, 99, accumulate: true);
        }

        for (int e = 0; e < n; e++)
        {
            float derivative = x[e] == 0f ? 0f : y[e] / x[e]; // 0 or 1/(1-p)
            Assert.Equal(start[e] + dy[e] * derivative, dx[e], 1e-6f);
        }

        fixed (float* pdy = dy, pdx = dx)
        {
            DropoutKernel.Backward(pdy, pdx, n, p, 99, accumulate: false);
        }

        for (int e = 0; e < n; e++) Assert.Equal(DropoutMask.Keep(99, e, p) ? dy[e] / (1f - p) : 0f, dx[e], 1e-6f);
    }

    [Fact]
    public void Edge_probabilities_keep_all_or_nothing()
    {
        for (long e = 0; e < 10_000; e++)
        {
            Assert.True(DropoutMask.Keep(5, e, 0f));
            Assert.False(DropoutMask.Keep(5, e, 1f));
        }
    }

    [Fact]
    public void Mix_separates_its_inputs()
    {
        var seen = new HashSet<ulong>();
        for (ulong a = 0; a < 50; a++)
        for (ulong b = 0; b < 50; b++)
            Assert.True(seen.Add(DropoutKernel.Mix(a, b)));
        Assert.NotEqual(DropoutKernel.Mix(1, 2), DropoutKernel.Mix(2, 1));
        Assert.Equal(DropoutKernel.Mix(3, 4), DropoutKernel.Mix(3, 4));
    }
}
