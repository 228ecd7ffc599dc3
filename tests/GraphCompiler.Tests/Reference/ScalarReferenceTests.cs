using Xunit;
using Xunit.Sdk;

namespace GraphCompiler.Tests.Reference;

/// <summary>
/// The reference checks every kernel, so it is itself checked against small cases worked out by hand
/// (the arithmetic is in the comments).
/// </summary>
public class ScalarReferenceTests
{
    // x = 1..9 as one 3x3 plane:
    //   1 2 3
    //   4 5 6
    //   7 8 9
    private static readonly float[] OneToNine = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    private static void Exact(float[] expected, float[] actual) => Close.Assert(expected, actual, rtol: 1e-6, atol: 1e-6);

    [Theory]
    [InlineData(28, 5, 1, 0, 1, 24)]
    [InlineData(28, 3, 1, 1, 1, 28)]
    [InlineData(8, 3, 2, 0, 1, 3)]   // floor(5 / 2) + 1
    [InlineData(7, 3, 2, 1, 1, 4)]   // floor(6 / 2) + 1
    [InlineData(9, 3, 1, 0, 2, 5)]   // dilated kernel spans 5
    [InlineData(3, 3, 1, 0, 1, 1)]
    public void ConvOutputSize_follows_pytorch(int size, int kernel, int stride, int padding, int dilation, int expected) =>
        Assert.Equal(expected, ScalarReference.ConvOutputSize(size, kernel, stride, padding, dilation));

    [Fact]
    public void Conv2d_2x2_kernel_over_3x3()
    {
        // w = [1 2; 3 4]: y00 = 1*1 + 2*2 + 3*4 + 4*5 = 37, y01 = 2 + 6 + 15 + 24 = 47,
        // y10 = 4 + 10 + 21 + 32 = 67, y11 = 5 + 12 + 24 + 36 = 77.
        float[] y = ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, [1, 2, 3, 4], cout: 1, kernel: 2);
        Exact([37, 47, 67, 77], y);
    }

    [Fact]
    public void Conv2d_bias_is_added_once()
    {
        float[] y = ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, [1, 2, 3, 4], cout: 1, kernel: 2, bias: [0.5f]);
        Exact([37.5f, 47.5f, 67.5f, 77.5f], y);
    }

    [Fact]
    public void Conv2d_zero_padding_sums_neighbourhoods()
    {
        // An all-ones 3x3 kernel with padding 1 sums each cell's in-bounds neighbourhood.
        float[] ones = [1, 1, 1, 1, 1, 1, 1, 1, 1];
        float[] y = ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, ones, cout: 1, kernel: 3, padding: 1);
        Exact([12, 21, 16, 27, 45, 33, 24, 39, 28], y);
    }

    [Fact]
    public void Conv2d_stride_picks_every_other_output()
    {
        // Same as the padded case, stride 2: Ho = floor((3 + 2 - 2 - 1) / 2) + 1 = 2, the four corners.
        float[] ones = [1, 1, 1, 1, 1, 1, 1, 1, 1];
        float[] y = ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, ones, cout: 1, kernel: 3, stride: 2, padding: 1);
        Exact([12, 16, 24, 28], y);
    }

    [Fact]
    public void Conv2d_dilation_spreads_the_taps()
    {
        // Kernel 2, dilation 2 reads the corners 1, 3, 7, 9: 1*1 + 2*3 + 3*7 + 4*9 = 64.
        float[] y = ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, [1, 2, 3, 4], cout: 1, kernel: 2, dilation: 2);
        Exact([64], y);
    }

    [Fact]
    public void Conv2d_mixes_channels_and_keeps_batches_apart()
    {
        // 1x1 conv, Cin = Cout = 2, H = 1, W = 2. Sample 0: ch0 = [1 2], ch1 = [3 4]; sample 1 doubles it.
        // out0 = 1*ch0 + 10*ch1 + 0.5, out1 = 100*ch0 + 1000*ch1 - 1.
        float[] x = [1, 2, 3, 4, 2, 4, 6, 8];
        float[] y = ScalarReference.Conv2d(x, 2, 2, 1, 2, [1, 10, 100, 1000], cout: 2, kernel: 1, bias: [0.5f, -1f]);
        Exact([31.5f, 42.5f, 3099, 4199, 62.5f, 84.5f, 6199, 8399], y);
    }

    [Fact]
    public void Conv2d_rejects_a_wrong_shape()
    {
        Assert.Throws<ArgumentException>(() => ScalarReference.Conv2d(OneToNine, 1, 1, 3, 4, [1], 1, 1));
        Assert.Throws<ArgumentException>(() => ScalarReference.Conv2d(OneToNine, 1, 1, 3, 3, new float[16], 1, 4));
    }

    [Fact]
    public void MaxPool2d_2x2_over_4x4()
    {
        float[] x = [.. Enumerable.Range(1, 16).Select(i => (float)i)];
        Exact([6, 8, 14, 16], ScalarReference.MaxPool2d(x, 1, 1, 4, 4, kernel: 2));
    }

    [Fact]
    public void MaxPool2d_padding_never_wins()
    {
        // All values negative, so zero padding would show up as 0. Kernel 2, stride 2, padding 1 on 3x3:
        // Ho = 2; windows hold {-1}, {-2,-3}, {-4,-7}, {-5,-6,-8,-9}.
        float[] x = [.. OneToNine.Select(v => -v)];
        Exact([-1, -2, -4, -5], ScalarReference.MaxPool2d(x, 1, 1, 3, 3, kernel: 2, stride: 2, padding: 1));
    }

    [Fact]
    public void MaxPool2d_propagates_nan()
    {
        float[] x = [1, float.NaN, 3, 4];
        Assert.True(float.IsNaN(ScalarReference.MaxPool2d(x, 1, 1, 2, 2, kernel: 2)[0]));
    }

    [Fact]
    public void AvgPool2d_without_padding()
    {
        // Kernel 2, stride 1: (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4, 6, 7.
        Exact([3, 4, 6, 7], ScalarReference.AvgPool2d(OneToNine, 1, 1, 3, 3, kernel: 2, stride: 1));
        Exact([5], ScalarReference.AvgPool2d(OneToNine, 1, 1, 3, 3, kernel: 3));
    }

    [Fact]
    public void AvgPool2d_counts_padding_in_the_divisor()
    {
        // Kernel 2, stride 2, padding 1: every window divides by 4, padded cells included:
        // 1/4, (2+3)/4, (4+7)/4, (5+6+8+9)/4.
        Exact([0.25f, 1.25f, 2.75f, 7f], ScalarReference.AvgPool2d(OneToNine, 1, 1, 3, 3, kernel: 2, stride: 2, padding: 1));
    }

    [Fact]
    public void Pooling_rejects_padding_over_half_the_kernel() =>
        Assert.Throws<ArgumentException>(() => ScalarReference.MaxPool2d(OneToNine, 1, 1, 3, 3, kernel: 2, padding: 2));

    [Fact]
    public void Linear_is_x_times_w_transposed_plus_bias()
    {
        // x = [1 2 3; 4 5 6], W = [1 0 -1; .5 .5 .5], b = [1 -1]:
        // row 0: 1 - 3 + 1 = -1, 3 - 1 = 2;  row 1: 4 - 6 + 1 = -1, 7.5 - 1 = 6.5.
        float[] y = ScalarReference.Linear([1, 2, 3, 4, 5, 6], 2, 3, [1, 0, -1, 0.5f, 0.5f, 0.5f], 2, bias: [1, -1]);
        Exact([-1, 2, -1, 6.5f], y);
        Exact([-2, 3, -2, 7.5f], ScalarReference.Linear([1, 2, 3, 4, 5, 6], 2, 3, [1, 0, -1, 0.5f, 0.5f, 0.5f], 2));
    }

    [Fact]
    public void Activations_at_known_points()
    {
        float[] relu = ScalarReference.Relu([-1, 0, 2, float.NaN]);
        Exact([0, 0, 2], relu[..3]);
        Assert.True(float.IsNaN(relu[3]));

        Close.Assert([0f, 0.7615942f, -0.7615942f, 1f], ScalarReference.Tanh([0, 1, -1, 50]), 1e-6, 0);
        Close.Assert([0.5f, 0.7310586f, 0f, 1f], ScalarReference.Sigmoid([0, 1, -1000, 1000]), 1e-6, 0);
    }

    [Fact]
    public void Elementwise_add_and_mul()
    {
        Exact([5, 7, 9], ScalarReference.Add([1, 2, 3], [4, 5, 6]));
        Exact([4, 10, 18], ScalarReference.Mul([1, 2, 3], [4, 5, 6]));
        Assert.Throws<ArgumentException>(() => ScalarReference.Add([1], [1, 2]));
    }

    [Fact]
    public void Softmax_matches_hand_values()
    {
        // exp(-2), exp(-1), 1 over their sum 1.5032147.
        Close.Assert([0.09003057f, 0.24472847f, 0.66524096f], ScalarReference.Softmax([1, 2, 3], 1, 3), 1e-6, 0);
        // Subtracting the maximum keeps huge logits finite.
        Exact([0.5f, 0.5f], ScalarReference.Softmax([1000, 1000], 1, 2));
    }

    [Fact]
    public void Softmax_rows_sum_to_one()
    {
        const int N = 4, F = 10;
        float[] y = ScalarReference.Softmax(TestData.Random(N * F, seed: 1, scale: 5), N, F);
        for (int b = 0; b < N; b++)
            Assert.Equal(1.0, y.Skip(b * F).Take(F).Sum(v => (double)v), precision: 6);
    }

    [Fact]
    public void LogSoftmax_matches_hand_values_and_log_of_softmax()
    {
        // log(softmax([1 2 3])) = [1 2 3] - 3 - log(1.5032147) = [-2.4076059, -1.4076059, -0.4076059].
        Close.Assert([-2.4076059f, -1.4076059f, -0.4076059f], ScalarReference.LogSoftmax([1, 2, 3], 1, 3), 1e-6, 0);

        float[] x = TestData.Random(3 * 7, seed: 2, scale: 3);
        float[] logOfSoftmax = [.. ScalarReference.Softmax(x, 3, 7).Select(v => MathF.Log(v))];
        Close.Assert(logOfSoftmax, ScalarReference.LogSoftmax(x, 3, 7), 1e-5, 1e-6);
    }

    [Fact]
    public void TestData_is_deterministic_and_in_range()
    {
        float[] a = TestData.Random(1000, seed: 42, scale: 0.5f);
        Assert.Equal(a, TestData.Random(1000, seed: 42, scale: 0.5f));
        Assert.NotEqual(a, TestData.Random(1000, seed: 43, scale: 0.5f));
        Assert.All(a, v => Assert.InRange(v, -0.5f, 0.5f));
        Assert.Contains(a, v => v < -0.4f);
        Assert.Contains(a, v => v > 0.4f);
    }

    [Fact]
    public void Close_passes_within_tolerance() =>
        Close.Assert([1f, 100f, float.NaN, float.PositiveInfinity], [1.00001f, 100.001f, float.NaN, float.PositiveInfinity], 1e-4, 1e-4);

    [Fact]
    public void Close_reports_first_and_worst_mismatch()
    {
        var e = Assert.ThrowsAny<XunitException>(() =>
            Close.Assert([0f, 1f, 2f, 3f], [0f, 1.5f, 2f, 13f], 1e-3, 1e-3, what: "conv1"));
        Assert.Contains("conv1: 2 of 4 elements differ", e.Message);
        Assert.Contains("first at [1]: expected 1, actual 1.5", e.Message);
        Assert.Contains("worst at [3]: expected 3, actual 13", e.Message);
    }

    [Fact]
    public void Close_fails_on_nan_and_length()
    {
        Assert.ThrowsAny<XunitException>(() => Close.Assert([1f], [float.NaN], 1, 1));
        Assert.ThrowsAny<XunitException>(() => Close.Assert([1f], [1f, 2f], 1, 1));
    }
}
