using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;
using static GraphCompiler.Tests.Kernels.KernelReference;

namespace GraphCompiler.Tests.Kernels;

public unsafe class ActivationKernelTests
{
    /// <summary>A dense sweep of [-12, 12], tiny values, extremes; an odd count so every tail runs.</summary>
    private static float[] Arguments()
    {
        var xs = new List<float>();
        for (int i = -120_000; i <= 120_000; i++) xs.Add(i * 1e-4f);
        for (float x = 1e-30f; x < 1e-3f; x *= 1.7f)
        {
            xs.Add(x);
            xs.Add(-x);
        }

        xs.AddRange([0f, -0f, 20f, -20f, 1e4f, -1e4f, 3e30f, -3e30f]);
        if (xs.Count % 2 == 0) xs.Add(0.75f);
        return xs.ToArray();
    }

    [Fact]
    public void Gelu_is_within_the_stated_error_of_double()
    {
        float[] x = Arguments();
        var y = new float[x.Length];
        fixed (float* px = x, py = y)
        {
            ActivationKernel.Gelu(px, py, x.Length);
        }

        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double err = Math.Abs(y[i] - Gelu(x[i])) / Math.Max(1, Math.Abs(x[i]));
            worst = Math.Max(worst, err);
        }

        Assert.True(worst <= ActivationKernel.GeluMaxError, $"worst scaled error {worst:G3}");
        Assert.True(worst > 0, "the comparison saw no rounding at all: is the reference the kernel itself?");
    }

    [Fact]
    public void GeluBackward_is_within_the_stated_error_and_matches_finite_differences()
    {
        float[] x = Arguments();
        float[] dy = TestData.Random(x.Length, 1);
        float[] dx = TestData.Random(x.Length, 2), start = (float[])dx.Clone();
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            ActivationKernel.GeluBackward(px, pdy, pdx, x.Length, accumulate: true);
        }

        double worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double err = Math.Abs(dx[i] - (start[i] + dy[i] * GeluDerivative(x[i]))) / Math.Max(1, Math.Abs(dy[i] * x[i]));
            worst = Math.Max(worst, err);
        }

        Assert.True(worst <= ActivationKernel.GeluMaxError * 2, $"worst scaled error {worst:G3}"); // the stored sum adds one rounding

        double[] xs = [-3.1, -0.7, 0, 0.4, 1.3, 2.9];
        foreach (double v in xs)
        {
            float fx = (float)v, g;
            float one = 1f;
            float fd = 0;
            ActivationKernel.GeluBackward(&fx, &one, &g, 1, false);
            double[] at = [v];
            fd = (float)FiniteDifference.Central(at, 0, () => Gelu(at[0]));
            Assert.Equal(fd, g, 1e-6f);
        }
    }

    [Fact]
    public void Gelu_in_place_and_odd_lengths_agree_with_separate_output()
    {
        float[] x = TestData.Random(67, 3, 5f);
        var y = new float[67];
        float[] inPlace = (float[])x.Clone();
        fixed (float* px = x, py = y, pi = inPlace)
        {
            ActivationKernel.Gelu(px, py, 67);
            ActivationKernel.Gelu(pi, pi, 67);
        }

        Assert.Equal(y, inPlace);
        Assert.NotEqual(x, y);
    }
}
