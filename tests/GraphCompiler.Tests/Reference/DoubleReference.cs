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

    /// <summary>
    /// <c>nn.LSTM(batch_first=True)</c> over x [n, steps, inputSize]: the last layer's hidden state at every step
    /// [n, steps, hidden], and the final states h_n and c_n, each [n, layers, hidden] (the batch first). The
    /// parameters are read as <c>{layer}.weight_ih_l{k}</c>, ... in PyTorch's layouts (gates i, f, g, o); the
    /// initial states are [n, layers, hidden] or zero.
    /// </summary>
    public static (double[] Output, double[] H, double[] C) Lstm(
        double[] x, int n, int steps, int inputSize, int hidden, int layers, bool bias, string layer, Func<string, double[]> p,
        double[]? h0 = null, double[]? c0 = null) =>
        Recurrent(x, n, steps, inputSize, hidden, layers, bias, layer, p, h0, c0, lstm: true);

    /// <summary>
    /// <c>nn.GRU(batch_first=True)</c> over x [n, steps, inputSize]: the output [n, steps, hidden] and h_n
    /// [n, layers, hidden]; gates r, z, n, with the candidate's recurrent bias inside the reset product.
    /// </summary>
    public static (double[] Output, double[] H) Gru(
        double[] x, int n, int steps, int inputSize, int hidden, int layers, bool bias, string layer, Func<string, double[]> p,
        double[]? h0 = null)
    {
        var (output, h, _) = Recurrent(x, n, steps, inputSize, hidden, layers, bias, layer, p, h0, null, lstm: false);
        return (output, h);
    }

    private static (double[] Output, double[] H, double[] C) Recurrent(
        double[] x, int n, int steps, int inputSize, int hidden, int layers, bool bias, string layer, Func<string, double[]> p,
        double[]? h0, double[]? c0, bool lstm)
    {
        int gates = lstm ? 4 : 3;
        var hn = new double[n * layers * hidden];
        var cn = new double[n * layers * hidden];
        double[] sequence = x;
        int width = inputSize;
        for (int k = 0; k < layers; k++)
        {
            double[] wi = p($"{layer}.weight_ih_l{k}"), wh = p($"{layer}.weight_hh_l{k}");
            double[]? bi = bias ? p($"{layer}.bias_ih_l{k}") : null, bh = bias ? p($"{layer}.bias_hh_l{k}") : null;
            var next = new double[n * steps * hidden];
            for (int b = 0; b < n; b++)
            {
                var h = new double[hidden];
                var c = new double[hidden];
                for (int j = 0; j < hidden; j++)
                {
                    h[j] = h0?[(b * layers + k) * hidden + j] ?? 0;
                    c[j] = c0?[(b * layers + k) * hidden + j] ?? 0;
                }

                var gi = new double[gates * hidden]; // input projection, with bias_ih
                var gh = new double[gates * hidden]; // recurrent projection, with bias_hh
                for (int t = 0; t < steps; t++)
                {
                    for (int g = 0; g < gates * hidden; g++)
                    {
                        double si = bi?[g] ?? 0, sh = bh?[g] ?? 0;
                        for (int i = 0; i < width; i++)
                        {
                            si += wi[g * width + i] * sequence[(b * steps + t) * width + i];
                        }

                        for (int i = 0; i < hidden; i++)
                        {
                            sh += wh[g * hidden + i] * h[i];
                        }

                        gi[g] = si;
                        gh[g] = sh;
                    }

                    for (int j = 0; j < hidden; j++)
                    {
                        if (lstm)
                        {
                            double ig = Logistic(gi[j] + gh[j]);
                            double fg = Logistic(gi[hidden + j] + gh[hidden + j]);
                            double gg = Math.Tanh(gi[2 * hidden + j] + gh[2 * hidden + j]);
                            double og = Logistic(gi[3 * hidden + j] + gh[3 * hidden + j]);
                            c[j] = fg * c[j] + ig * gg;
                            next[(b * steps + t) * hidden + j] = og * Math.Tanh(c[j]);
                        }
                        else
                        {
                            double r = Logistic(gi[j] + gh[j]);
                            double z = Logistic(gi[hidden + j] + gh[hidden + j]);
                            double candidate = Math.Tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
                            next[(b * steps + t) * hidden + j] = (1 - z) * candidate + z * h[j];
                        }
                    }

                    Array.Copy(next, (b * steps + t) * hidden, h, 0, hidden);
                }

                Array.Copy(h, 0, hn, (b * layers + k) * hidden, hidden);
                Array.Copy(c, 0, cn, (b * layers + k) * hidden, hidden);
            }

            sequence = next;
            width = hidden;
        }

        return (sequence, hn, cn);
    }

    private static double Logistic(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>
    /// <c>torch.select(x, 1, index)</c> of x [n, rows, rest...] (rest being <paramref name="inner"/> values per row): [n, inner].
    /// </summary>
    public static double[] Select(double[] x, int n, int rows, int inner, int index)
    {
        var y = new double[n * inner];
        for (int b = 0; b < n; b++)
        {
            Array.Copy(x, (b * rows + index) * inner, y, b * inner, inner);
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
