using System.Runtime.Intrinsics;
using Xunit;

namespace GraphCompiler.Tests.Runtime;

/// <summary>
/// The gate nonlinearities of the generated kernels against double precision: the documented absolute
/// error bounds hold on every width, over a dense sweep and at the extremes, and the functions keep
/// their symmetries and limits.
/// </summary>
public class VectorMathTests
{
    /// <summary>A dense sweep of [-30, 30] (steps of about 1e-4, every float near 0), then the extremes.</summary>
    private static float[] Arguments()
    {
        var xs = new List<float>();
        for (int i = -300_000; i <= 300_000; i++)
        {
            xs.Add(i * 1e-4f);
        }

        for (float x = 1e-30f; x < 1e-3f; x *= 1.5f)
        {
            xs.Add(x);
            xs.Add(-x);
        }

        xs.AddRange(new[] { 0f, -0f, 50f, -50f, 87f, -87f, 88.5f, -88.5f, 100f, -100f, 1e10f, -1e10f, float.MaxValue, float.MinValue });
        while (xs.Count % 16 != 0)
        {
            xs.Add(0.5f);
        }

        return xs.ToArray();
    }

    public static TheoryData<int> Widths => new() { 512, 256, 128, 1 };

    private static float[] Apply(int width, float[] xs, bool tanh)
    {
        var y = new float[xs.Length];
        for (int i = 0; i < xs.Length; i += 16)
        {
            ReadOnlySpan<float> x = xs.AsSpan(i, 16);
            Span<float> o = y.AsSpan(i, 16);
            switch (width)
            {
                case 512:
                    var v512 = Vector512.Create(x);
                    (tanh ? VectorMath.Tanh(v512) : VectorMath.Sigmoid(v512)).CopyTo(o);
                    break;
                case 256:
                    for (int j = 0; j < 16; j += 8)
                    {
                        var v = Vector256.Create(x.Slice(j, 8));
                        (tanh ? VectorMath.Tanh(v) : VectorMath.Sigmoid(v)).CopyTo(o.Slice(j, 8));
                    }

                    break;
                case 128:
                    for (int j = 0; j < 16; j += 4)
                    {
                        var v = Vector128.Create(x.Slice(j, 4));
                        (tanh ? VectorMath.Tanh(v) : VectorMath.Sigmoid(v)).CopyTo(o.Slice(j, 4));
                    }

                    break;
                default:
                    for (int j = 0; j < 16; j++)
                    {
                        o[j] = tanh ? VectorMath.Tanh(x[j]) : VectorMath.Sigmoid(x[j]);
                    }

                    break;
            }
        }

        return y;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_is_within_its_stated_bound(int width)
    {
        float[] xs = Arguments();
        float[] y = Apply(width, xs, tanh: false);
        double worst = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double exact = 1 / (1 + Math.Exp(-(double)xs[i]));
            worst = Math.Max(worst, Math.Abs(y[i] - exact));
            Assert.InRange(y[i], 0f, 1f);
        }

        Assert.True(worst <= VectorMath.SigmoidMaxError, $"width {width}: worst sigmoid error {worst:E3} above {VectorMath.SigmoidMaxError:E1}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_is_within_its_stated_bound_and_odd(int width)
    {
        float[] xs = Arguments();
        float[] y = Apply(width, xs, tanh: true);
        float[] negated = Apply(width, xs.Select(x => -x).ToArray(), tanh: true);
        double worst = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(y[i] - Math.Tanh(xs[i])));
            Assert.Equal(-y[i], negated[i]);
            Assert.InRange(y[i], -1f, 1f);
        }

        Assert.True(worst <= VectorMath.TanhMaxError, $"width {width}: worst tanh error {worst:E3} above {VectorMath.TanhMaxError:E1}");
    }

    [Fact]
    public void Exp_is_accurate_relative_to_its_value_in_the_normal_range()
    {
        double worst = 0;
        for (float x = -87f; x <= 88f; x += 0.001f)
        {
            float e512 = VectorMath.Exp(Vector512.Create(x)).GetElement(0);
            float e256 = VectorMath.Exp(Vector256.Create(x)).GetElement(0);
            float e128 = VectorMath.Exp(Vector128.Create(x)).GetElement(0);
            double exact = Math.Exp(x);
            foreach (float e in new[] { e512, e256, e128 })
            {
                worst = Math.Max(worst, Math.Abs(e - exact) / exact);
            }
        }

        Assert.True(worst < 3e-7, $"worst relative exp error {worst:E3}");
    }

    [Fact]
    public void Nan_stays_nan()
    {
        Assert.True(float.IsNaN(VectorMath.Tanh(Vector256.Create(float.NaN)).GetElement(0)));
        Assert.True(float.IsNaN(VectorMath.Sigmoid(Vector512.Create(float.NaN)).GetElement(0)));
    }
}
