namespace KernelLab;

/// <summary>Plain scalar reference of the seed CNN in PyTorch semantics (NCHW, PyTorch
/// weight layouts, flatten order c*49+h*7+w), accumulating in double. Every kernel is
/// checked against it, so packing and the flatten permutation are checked too.</summary>
public static class Reference
{
    /// <summary>x [Cin][H][W] -> conv3x3 pad 1 + bias + ReLU + maxpool 2x2 -> [Cout][H/2][W/2].</summary>
    public static float[] ConvReluPool(float[] x, int cin, int h, int wd, float[] w, float[] b, int cout)
    {
        var conv = new float[cout * h * wd];
        for (int co = 0; co < cout; co++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < wd; xx++)
                {
                    double s = b[co];
                    for (int ci = 0; ci < cin; ci++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++)
                            {
                                int iy = y + kh - 1, ix = xx + kw - 1;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                s += (double)w[((co * cin + ci) * 3 + kh) * 3 + kw] * x[(ci * h + iy) * wd + ix];
                            }
                    conv[(co * h + y) * wd + xx] = (float)Math.Max(s, 0);
                }
        int ph = h / 2, pw = wd / 2;
        var o = new float[cout * ph * pw];
        for (int c = 0; c < cout; c++)
            for (int y = 0; y < ph; y++)
                for (int xx = 0; xx < pw; xx++)
                {
                    float m = float.MinValue;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++)
                            m = Math.Max(m, conv[(c * h + 2 * y + dy) * wd + 2 * xx + dx]);
                    o[(c * ph + y) * pw + xx] = m;
                }
        return o;
    }

    /// <summary>x [B][K], w [N][K] -> [B][N].</summary>
    public static float[] Linear(float[] x, int batch, int k, float[] w, float[] b, int n, bool relu)
    {
        var y = new float[batch * n];
        for (int m = 0; m < batch; m++)
            for (int j = 0; j < n; j++)
            {
                double s = b[j];
                for (int i = 0; i < k; i++) s += (double)x[m * k + i] * w[j * k + i];
                y[m * n + j] = (float)(relu ? Math.Max(s, 0) : s);
            }
        return y;
    }

    /// <summary>Max |a-b| relative to max |ref|.</summary>
    public static double RelDiff(ReadOnlySpan<float> got, ReadOnlySpan<float> want)
    {
        double d = 0, m = 1e-30;
        for (int i = 0; i < want.Length; i++)
        {
            d = Math.Max(d, Math.Abs(got[i] - want[i]));
            m = Math.Max(m, Math.Abs(want[i]));
        }
        return d / m;
    }
}
