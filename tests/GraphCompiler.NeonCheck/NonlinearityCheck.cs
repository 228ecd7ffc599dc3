using System.Globalization;
using System.Runtime.Intrinsics;

namespace GraphCompiler.NeonCheck;

/// <summary>
/// The inlined SIMD sigmoid and tanh of the recurrent kernels (<see cref="VectorMath"/>) on the widest accelerated
/// width up to 128 bits (the arm64 path) and in scalar code, against double precision: within the documented absolute
/// bounds over a sweep of [-30, 30] and at the extremes. Smaller than the test suite's sweep, to suit an emulator.
/// </summary>
internal static class NonlinearityCheck
{
    public static string Run()
    {
        var xs = new List<float>();
        for (int i = -30_000; i <= 30_000; i++)
        {
            xs.Add(i * 1e-3f + 1.7e-5f * (i % 7));
        }

        xs.AddRange([0f, -0f, 1e-30f, -1e-30f, 50f, -50f, 87f, -87f, 88.5f, -88.5f, 100f, -100f, 1e10f, -1e10f, float.MaxValue, float.MinValue]);
        while (xs.Count % 4 != 0)
        {
            xs.Add(0.5f);
        }

        float[] x = xs.ToArray();
        double worstSigmoid = 0, worstTanh = 0;
        for (int i = 0; i < x.Length; i += 4)
        {
            Vector128<float> v = Vector128.Create(x.AsSpan(i, 4));
            Vector128<float> s = VectorMath.Sigmoid(v), t = VectorMath.Tanh(v);
            for (int j = 0; j < 4; j++)
            {
                double exactSigmoid = 1 / (1 + Math.Exp(-(double)x[i + j]));
                double exactTanh = Math.Tanh(x[i + j]);
                worstSigmoid = Math.Max(worstSigmoid, Error(s[j], exactSigmoid));
                worstTanh = Math.Max(worstTanh, Error(t[j], exactTanh));
                worstSigmoid = Math.Max(worstSigmoid, Error(VectorMath.Sigmoid(x[i + j]), exactSigmoid));
                worstTanh = Math.Max(worstTanh, Error(VectorMath.Tanh(x[i + j]), exactTanh));
            }
        }

        if (worstSigmoid > VectorMath.SigmoidMaxError || worstTanh > VectorMath.TanhMaxError)
        {
            throw new CheckFailure(string.Create(CultureInfo.InvariantCulture,
                $"worst error sigmoid {worstSigmoid:G3} (bound {VectorMath.SigmoidMaxError:G3}), tanh {worstTanh:G3} (bound {VectorMath.TanhMaxError:G3})"));
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{x.Length} arguments, worst error sigmoid {worstSigmoid:G3} (bound {VectorMath.SigmoidMaxError:G3}), tanh {worstTanh:G3} (bound {VectorMath.TanhMaxError:G3})");
    }

    /// <summary>Absolute error; NaN is infinitely wrong.</summary>
    private static double Error(float actual, double exact)
    {
        double e = Math.Abs(actual - exact);
        return double.IsNaN(e) ? double.PositiveInfinity : e;
    }
}
