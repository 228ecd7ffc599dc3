using GraphCompiler.Bench.Cnn;
using static GraphCompiler.Bench.Cnn.SeedCnn;

namespace GraphCompiler.Bench.Reference;

/// <summary>
/// The seed CNN's forward pass written plainly: scalar loops, NCHW, every sum accumulated in double.
/// Slow on purpose; it is the yardstick the engines are checked against.
/// </summary>
public static class CnnReference
{
    /// <summary>Logits [batch, 10] of <paramref name="input"/> [batch, 1, 28, 28].</summary>
    public static float[] Forward(IReadOnlyDictionary<string, float[]> p, ReadOnlySpan<float> input)
    {
        SeedCnn.Validate(p);
        if (input.Length % InputSize != 0)
        {
            throw new ArgumentException($"Input length {input.Length} is not a multiple of {InputSize}.", nameof(input));
        }

        int batch = input.Length / InputSize;
        var output = new float[batch * Classes];
        for (int n = 0; n < batch; n++)
        {
            double[] x = ToDouble(input.Slice(n * InputSize, InputSize));
            double[] a1 = Relu(Conv2d(x, InChannels, Height, Width, p["conv1.weight"], p["conv1.bias"], C1));
            double[] p1 = MaxPool2(a1, C1, H1, W1);
            double[] a2 = Relu(Conv2d(p1, C1, H1p, W1p, p["conv2.weight"], p["conv2.bias"], C2));
            double[] p2 = MaxPool2(a2, C2, H2, W2); // [64, 7, 7]: flattening NCHW keeps this order
            double[] h = Relu(Linear(p2, p["fc1.weight"], p["fc1.bias"], Flat, Hidden));
            double[] y = Linear(h, p["fc2.weight"], p["fc2.bias"], Hidden, Classes);
            for (int k = 0; k < Classes; k++)
            {
                output[(n * Classes) + k] = (float)y[k];
            }
        }

        return output;
    }

    /// <summary>Same-padded (pad 1) 3x3 convolution, stride 1; weight [out, in, 3, 3].</summary>
    private static double[] Conv2d(double[] x, int inC, int h, int w, float[] weight, float[] bias, int outC)
    {
        var y = new double[outC * h * w];
        for (int oc = 0; oc < outC; oc++)
        {
            for (int oy = 0; oy < h; oy++)
            {
                for (int ox = 0; ox < w; ox++)
                {
                    double sum = bias[oc];
                    for (int ic = 0; ic < inC; ic++)
                    {
                        for (int ky = 0; ky < Kernel; ky++)
                        {
                            int iy = oy + ky - Padding;
                            if (iy < 0 || iy >= h)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < Kernel; kx++)
                            {
                                int ix = ox + kx - Padding;
                                if (ix < 0 || ix >= w)
                                {
                                    continue;
                                }

                                sum += (double)weight[(((oc * inC) + ic) * Kernel + ky) * Kernel + kx] * x[((ic * h) + iy) * w + ix];
                            }
                        }
                    }

                    y[((oc * h) + oy) * w + ox] = sum;
                }
            }
        }

        return y;
    }

    /// <summary>2x2 max pooling, stride 2.</summary>
    private static double[] MaxPool2(double[] x, int c, int h, int w)
    {
        int ho = h / 2, wo = w / 2;
        var y = new double[c * ho * wo];
        for (int ch = 0; ch < c; ch++)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                for (int ox = 0; ox < wo; ox++)
                {
                    int i = ((ch * h) + (2 * oy)) * w + (2 * ox);
                    y[((ch * ho) + oy) * wo + ox] = Math.Max(Math.Max(x[i], x[i + 1]), Math.Max(x[i + w], x[i + w + 1]));
                }
            }
        }

        return y;
    }

    /// <summary>y = W x + b with W [out, in].</summary>
    private static double[] Linear(double[] x, float[] weight, float[] bias, int inF, int outF)
    {
        var y = new double[outF];
        for (int o = 0; o < outF; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < inF; i++)
            {
                sum += (double)weight[(o * inF) + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    private static double[] Relu(double[] x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = Math.Max(x[i], 0.0);
        }

        return x;
    }

    private static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            d[i] = x[i];
        }

        return d;
    }
}
