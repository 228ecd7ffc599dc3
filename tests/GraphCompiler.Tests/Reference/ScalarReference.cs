namespace GraphCompiler.Tests.Reference;

/// <summary>
/// Plain, obviously-correct reference implementations of the ops, in PyTorch semantics: NCHW, batch
/// first, row-major. Every sum is accumulated in <see cref="double"/> and rounded to <see cref="float"/>
/// once at the end, so the reference is more accurate than any kernel it checks. Speed does not
/// matter here; readability does: each function is the textbook loop nest.
/// </summary>
public static class ScalarReference
{
    // ---- Output sizes (PyTorch's formulas, floor division, ceil_mode = false) -----------------------

    /// <summary><c>floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1</c>, as <c>nn.Conv2d</c>.</summary>
    public static int ConvOutputSize(int size, int kernel, int stride = 1, int padding = 0, int dilation = 1)
    {
        Require(size > 0 && kernel > 0 && stride > 0 && padding >= 0 && dilation > 0, "sizes must be positive");
        int span = size + 2 * padding - dilation * (kernel - 1) - 1;
        // A negative span means the (dilated) kernel does not fit; PyTorch raises, so do we.
        Require(span >= 0, $"kernel {kernel} (dilation {dilation}) does not fit input {size} with padding {padding}");
        return span / stride + 1;
    }

    /// <summary><c>floor((size + 2*padding - kernel) / stride) + 1</c>, as <c>nn.MaxPool2d</c> / <c>nn.AvgPool2d</c>.</summary>
    public static int PoolOutputSize(int size, int kernel, int stride, int padding = 0)
    {
        Require(kernel > 0 && stride > 0 && padding >= 0, "sizes must be positive");
        // PyTorch: "pad should be at most half of effective kernel size".
        Require(2 * padding <= kernel, $"padding {padding} is more than half the kernel {kernel}");
        return ConvOutputSize(size, kernel, stride, padding, dilation: 1);
    }

    // ---- Convolution ---------------------------------------------------------------------------------

    /// <summary>
    /// <c>F.conv2d</c>: x [N, Cin, H, W], weight [Cout, Cin, K, K], bias [Cout] or null
    /// -> [N, Cout, Ho, Wo]. Zero padding.
    /// </summary>
    public static float[] Conv2d(
        ReadOnlySpan<float> x, int n, int cin, int h, int w,
        ReadOnlySpan<float> weight, int cout, int kernel, float[]? bias = null,
        int stride = 1, int padding = 0, int dilation = 1)
    {
        RequireLength(x, n * cin * h * w, nameof(x));
        RequireLength(weight, cout * cin * kernel * kernel, nameof(weight));
        if (bias is not null) RequireLength(bias, cout, nameof(bias));

        int ho = ConvOutputSize(h, kernel, stride, padding, dilation);
        int wo = ConvOutputSize(w, kernel, stride, padding, dilation);
        var y = new float[n * cout * ho * wo];
        for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double sum = bias is null ? 0.0 : bias[co];
            for (int ci = 0; ci < cin; ci++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = oy * stride - padding + ky * dilation;
                int ix = ox * stride - padding + kx * dilation;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // zero padding
                sum += (double)x[((b * cin + ci) * h + iy) * w + ix]
                     * weight[((co * cin + ci) * kernel + ky) * kernel + kx];
            }
            y[((b * cout + co) * ho + oy) * wo + ox] = (float)sum;
        }
        return y;
    }

    // ---- Pooling -------------------------------------------------------------------------------------

    /// <summary>
    /// <c>F.max_pool2d</c>: x [N, C, H, W] -> [N, C, Ho, Wo]. Padding acts as -infinity (it never wins).
    /// <paramref name="stride"/> defaults to the kernel, as in PyTorch.
    /// </summary>
    public static float[] MaxPool2d(
        ReadOnlySpan<float> x, int n, int c, int h, int w, int kernel, int? stride = null, int padding = 0)
    {
        int s = stride ?? kernel;
        RequireLength(x, n * c * h * w, nameof(x));
        int ho = PoolOutputSize(h, kernel, s, padding);
        int wo = PoolOutputSize(w, kernel, s, padding);
        var y = new float[n * c * ho * wo];
        for (int p = 0; p < n * c; p++) // batch and channel are independent planes
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double max = double.NegativeInfinity;
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = oy * s - padding + ky;
                int ix = ox * s - padding + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // -inf padding
                max = Math.Max(max, x[(p * h + iy) * w + ix]); // Math.Max propagates NaN, as torch does
            }
            y[(p * ho + oy) * wo + ox] = (float)max;
        }
        return y;
    }

    /// <summary>
    /// <c>F.avg_pool2d</c> with <c>count_include_pad=True</c> (PyTorch's default): x [N, C, H, W]
    /// -> [N, C, Ho, Wo]. Padded cells count as zeros, so the divisor is always kernel*kernel.
    /// <paramref name="stride"/> defaults to the kernel.
    /// </summary>
    public static float[] AvgPool2d(
        ReadOnlySpan<float> x, int n, int c, int h, int w, int kernel, int? stride = null, int padding = 0)
    {
        int s = stride ?? kernel;
        RequireLength(x, n * c * h * w, nameof(x));
        int ho = PoolOutputSize(h, kernel, s, padding);
        int wo = PoolOutputSize(w, kernel, s, padding);
        var y = new float[n * c * ho * wo];
        for (int p = 0; p < n * c; p++)
        for (int oy = 0; oy < ho; oy++)
        for (int ox = 0; ox < wo; ox++)
        {
            double sum = 0;
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int iy = oy * s - padding + ky;
                int ix = ox * s - padding + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue; // zero padding, still counted
                sum += x[(p * h + iy) * w + ix];
            }
            // With ceil_mode = false a window never leaves the padded input, so PyTorch's
            // divisor (window clipped to the padded input) is exactly kernel*kernel.
            y[(p * ho + oy) * wo + ox] = (float)(sum / (kernel * kernel));
        }
        return y;
    }

    // ---- Linear --------------------------------------------------------------------------------------

    /// <summary><c>F.linear</c>: y = x W^T + b; x [N, In], weight [Out, In], bias [Out] or null -> [N, Out].</summary>
    public static float[] Linear(
        ReadOnlySpan<float> x, int n, int inFeatures, ReadOnlySpan<float> weight, int outFeatures, float[]? bias = null)
    {
        RequireLength(x, n * inFeatures, nameof(x));
        RequireLength(weight, outFeatures * inFeatures, nameof(weight));
        if (bias is not null) RequireLength(bias, outFeatures, nameof(bias));

        var y = new float[n * outFeatures];
        for (int b = 0; b < n; b++)
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = bias is null ? 0.0 : bias[o];
            for (int k = 0; k < inFeatures; k++)
                sum += (double)x[b * inFeatures + k] * weight[o * inFeatures + k];
            y[b * outFeatures + o] = (float)sum;
        }
        return y;
    }

    // ---- Elementwise ---------------------------------------------------------------------------------

    /// <summary>max(x, 0); NaN stays NaN, as <c>torch.relu</c>.</summary>
    public static float[] Relu(ReadOnlySpan<float> x) => Map(x, static v => double.IsNaN(v) || v > 0 ? v : 0);

    public static float[] Tanh(ReadOnlySpan<float> x) => Map(x, Math.Tanh);

    /// <summary>1 / (1 + e^-x); for very negative x, e^-x overflows to infinity and the result is 0, as it should.</summary>
    public static float[] Sigmoid(ReadOnlySpan<float> x) => Map(x, static v => 1.0 / (1.0 + Math.Exp(-v)));

    public static float[] Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Zip(a, b, static (u, v) => u + v);

    public static float[] Mul(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Zip(a, b, static (u, v) => u * v);

    // ---- Softmax over the last dimension -------------------------------------------------------------

    /// <summary><c>F.softmax(x, dim=-1)</c> for x [N, F]; the row maximum is subtracted first, as every real implementation does.</summary>
    public static float[] Softmax(ReadOnlySpan<float> x, int n, int features)
    {
        RequireLength(x, n * features, nameof(x));
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        {
            ReadOnlySpan<float> row = x.Slice(b * features, features);
            double max = RowMax(row);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int f = 0; f < features; f++)
                y[b * features + f] = (float)(Math.Exp(row[f] - max) / sum);
        }
        return y;
    }

    /// <summary><c>F.log_softmax(x, dim=-1)</c> for x [N, F]: x - max - log(sum(exp(x - max))).</summary>
    public static float[] LogSoftmax(ReadOnlySpan<float> x, int n, int features)
    {
        RequireLength(x, n * features, nameof(x));
        var y = new float[x.Length];
        for (int b = 0; b < n; b++)
        {
            ReadOnlySpan<float> row = x.Slice(b * features, features);
            double max = RowMax(row);
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            double logSum = Math.Log(sum);
            for (int f = 0; f < features; f++)
                y[b * features + f] = (float)(row[f] - max - logSum);
        }
        return y;
    }

    // ---- Helpers -------------------------------------------------------------------------------------

    private static double RowMax(ReadOnlySpan<float> row)
    {
        Require(row.Length > 0, "softmax over an empty dimension");
        double max = double.NegativeInfinity;
        foreach (float v in row) max = Math.Max(max, v);
        return max;
    }

    private static float[] Map(ReadOnlySpan<float> x, Func<double, double> f)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (float)f(x[i]);
        return y;
    }

    private static float[] Zip(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Func<double, double, double> f)
    {
        Require(a.Length == b.Length, $"lengths differ: {a.Length} vs {b.Length}");
        var y = new float[a.Length];
        for (int i = 0; i < a.Length; i++) y[i] = (float)f(a[i], b[i]);
        return y;
    }

    private static void RequireLength(ReadOnlySpan<float> data, int expected, string name) =>
        Require(data.Length == expected, $"{name} has {data.Length} elements, the shape says {expected}");

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
