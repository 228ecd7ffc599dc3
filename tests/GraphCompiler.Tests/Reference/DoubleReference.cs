namespace GraphCompiler.Tests.Reference;

/// <summary>
/// Double-precision versions of the reference ops (NCHW, batch first, PyTorch semantics), for
/// finite-difference gradient checks: central differences need more precision than float gives.
/// </summary>
public static class DoubleReference
{
    public static double[] Conv2d(double[] x, int n, int cin, int h, int w, double[] weight, int cout, int k, double[]? bias, int stride = 1, int padding = 0, int dilation = 1)
    {
        int ho = ScalarReference.ConvOutputSize(h, k, stride, padding, dilation), wo = ScalarReference.ConvOutputSize(w, k, stride, padding, dilation);
        var y = new double[n * cout * ho * wo];
        for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++)
        for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++)
        {
            double s = bias?[co] ?? 0;
            for (int ci = 0; ci < cin; ci++)
            for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++)
            {
                int ih = oh * stride - padding + kh * dilation, iw = ow * stride - padding + kw * dilation;
                if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                {
                    s += x[((b * cin + ci) * h + ih) * w + iw] * weight[((co * cin + ci) * k + kh) * k + kw];
                }
            }

            y[((b * cout + co) * ho + oh) * wo + ow] = s;
        }

        return y;
    }

    public static double[] Pool2d(double[] x, int n, int c, int h, int w, int k, int stride, int padding, bool max)
    {
        int ho = ScalarReference.PoolOutputSize(h, k, stride, padding), wo = ScalarReference.PoolOutputSize(w, k, stride, padding);
        var y = new double[n * c * ho * wo];
        for (int p = 0; p < n * c; p++)
        for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++)
            {
                int ih = oh * stride - padding + kh, iw = ow * stride - padding + kw;
                if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                {
                    double v = x[(p * h + ih) * w + iw];
                    acc = max ? Math.Max(acc, v) : acc + v;
                }
            }

            y[(p * ho + oh) * wo + ow] = max ? acc : acc / (k * k);
        }

        return y;
    }

    public static double[] Linear(double[] x, int n, int inFeatures, double[] weight, int outFeatures, double[]? bias)
    {
        var y = new double[n * outFeatures];
        for (int b = 0; b < n; b++)
        for (int o = 0; o < outFeatures; o++)
        {
            double s = bias?[o] ?? 0;
            for (int i = 0; i < inFeatures; i++)
            {
                s += x[b * inFeatures + i] * weight[o * inFeatures + i];
            }

            y[b * outFeatures + o] = s;
        }

        return y;
    }

    public static double[] Map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    public static double[] Relu(double[] x) => Map(x, v => v > 0 ? v : 0);

    public static double[] Tanh(double[] x) => Map(x, Math.Tanh);

    public static double[] Sigmoid(double[] x) => Map(x, v => 1 / (1 + Math.Exp(-v)));

    public static double[] Add(double[] a, double[] b) => a.Zip(b, (u, v) => u + v).ToArray();

    public static double[] Mul(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).ToArray();

    public static double[] Softmax(double[] x, int rows, int length, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < length; i++) max = Math.Max(max, x[r * length + i]);
            for (int i = 0; i < length; i++) sum += Math.Exp(x[r * length + i] - max);
            for (int i = 0; i < length; i++)
            {
                double z = x[r * length + i] - max;
                y[r * length + i] = log ? z - Math.Log(sum) : Math.Exp(z) / sum;
            }
        }

        return y;
    }

    public static double Dot(double[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
