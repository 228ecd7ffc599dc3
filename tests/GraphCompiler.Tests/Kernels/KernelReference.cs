namespace GraphCompiler.Tests.Kernels;

/// <summary>Double-precision versions of the transformer kernels, written as plainly as possible.</summary>
public static class KernelReference
{
    public static double[] ToDouble(float[] x) => Array.ConvertAll(x, v => (double)v);

    public static float[] ToFloat(double[] x) => Array.ConvertAll(x, v => (float)v);

    /// <summary>Σ y·w: a scalar loss whose gradient with respect to y is w.</summary>
    public static double Project(double[] y, float[] w)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += y[i] * w[i];
        return s;
    }

    public static double[] LayerNorm(double[] x, int rows, int n, double[]? gamma, double[]? beta, double eps)
    {
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < n; j++) mean += x[r * n + j];
            mean /= n;
            for (int j = 0; j < n; j++) variance += (x[r * n + j] - mean) * (x[r * n + j] - mean);
            variance /= n;
            double rstd = 1 / Math.Sqrt(variance + eps);
            for (int j = 0; j < n; j++)
                y[r * n + j] = (x[r * n + j] - mean) * rstd * (gamma?[j] ?? 1) + (beta?[j] ?? 0);
        }

        return y;
    }

    public static double[] LogSoftmax(double[] x, int rows, int n)
    {
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++) max = Math.Max(max, x[r * n + j]);
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] = x[r * n + j] - max - Math.Log(sum);
        }

        return y;
    }

    /// <summary>erf to about 1e-15: Taylor series below 3, the erfc continued fraction above.</summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 3)
        {
            double term = x, sum = x;
            for (int k = 1; k < 200; k++)
            {
                term *= -x * x / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }

            return 2 / Math.Sqrt(Math.PI) * sum;
        }

        // erfc(x) = exp(-x²)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), Lentz-free backward evaluation.
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + k / 2.0 / f;
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }

    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    public static double GeluDerivative(double x) =>
        0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>
    /// Attention of all heads in double precision, with the same mask rules and dropout mask as the kernel.
    /// Rows are [t][ld]; returns o as [tq][heads·headDim] and the log-sum-exp per (head, query).
    /// </summary>
    public static double[] Attention(
        double[] q, int ldq, double[] k, int ldk, double[] v, int ldv, int tq, int tk, int heads, int headDim,
        double scale, bool causal, int[]? keyTokens, int padToken, float dropoutP, ulong seed, out double[] lse)
    {
        int e = heads * headDim;
        var o = new double[tq * e];
        lse = new double[heads * tq];
        var s = new double[tk];
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < tq; i++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < tk; j++)
            {
                bool masked = (causal && j > i) || (keyTokens != null && keyTokens[j] == padToken);
                double dot = 0;
                for (int d = 0; d < headDim; d++) dot += q[i * ldq + h * headDim + d] * k[j * ldk + h * headDim + d];
                s[j] = masked ? double.NegativeInfinity : scale * dot;
                max = Math.Max(max, s[j]);
            }

            if (double.IsNegativeInfinity(max))
            {
                lse[h * tq + i] = double.NegativeInfinity;
                continue; // a fully masked row: zeros
            }

            double sum = 0;
            for (int j = 0; j < tk; j++) sum += Math.Exp(s[j] - max);
            lse[h * tq + i] = max + Math.Log(sum);
            for (int j = 0; j < tk; j++)
            {
                double p = Math.Exp(s[j] - max) / sum;
                if (dropoutP > 0)
                    p = GraphCompiler.Kernels.DropoutMask.Keep(seed, ((long)h * tq + i) * tk + j, dropoutP) ? p / (1 - dropoutP) : 0;
                for (int d = 0; d < headDim; d++) o[i * e + h * headDim + d] += p * v[j * ldv + h * headDim + d];
            }
        }

        return o;
    }
}
