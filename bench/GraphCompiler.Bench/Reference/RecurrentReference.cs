using GraphCompiler.Bench.Rnn;

namespace GraphCompiler.Bench.Reference;

/// <summary>
/// The seed LSTM and its GRU twin in double precision, the plain way: PyTorch's equations step by step,
/// zero initial states, the last step's top hidden state into fc. The yardstick for ONNX Runtime and the
/// generated models.
/// </summary>
public static class RecurrentReference
{
    /// <summary>Logits [batch, 10] of a batch of [28, 28] samples.</summary>
    public static float[] Forward(SeedRecurrent spec, IReadOnlyDictionary<string, float[]> p, ReadOnlySpan<float> input)
    {
        const int T = SeedRecurrent.Steps, H = SeedRecurrent.Hidden;
        int batch = input.Length / SeedRecurrent.InputSize;
        var output = new float[batch * SeedRecurrent.Classes];
        for (int n = 0; n < batch; n++)
        {
            // The sequence entering the current layer: [T, in].
            double[] sequence = new double[T * SeedRecurrent.Features];
            for (int i = 0; i < sequence.Length; i++)
            {
                sequence[i] = input[(n * SeedRecurrent.InputSize) + i];
            }

            int inputSize = SeedRecurrent.Features;
            for (int k = 0; k < SeedRecurrent.Layers; k++)
            {
                float[] wih = p[$"{spec.Layer}.weight_ih_l{k}"], whh = p[$"{spec.Layer}.weight_hh_l{k}"];
                float[] bih = p[$"{spec.Layer}.bias_ih_l{k}"], bhh = p[$"{spec.Layer}.bias_hh_l{k}"];
                double[] h = new double[H], c = new double[H], next = new double[T * H];
                for (int t = 0; t < T; t++)
                {
                    double[] gi = Affine(wih, bih, sequence, t * inputSize, inputSize, spec.Gates * H);
                    double[] gh = Affine(whh, bhh, h, 0, H, spec.Gates * H);
                    for (int j = 0; j < H; j++)
                    {
                        if (spec.Gates == 4)
                        {
                            double i = Sigmoid(gi[j] + gh[j]);
                            double f = Sigmoid(gi[H + j] + gh[H + j]);
                            double g = Math.Tanh(gi[(2 * H) + j] + gh[(2 * H) + j]);
                            double o = Sigmoid(gi[(3 * H) + j] + gh[(3 * H) + j]);
                            c[j] = (f * c[j]) + (i * g);
                            next[(t * H) + j] = o * Math.Tanh(c[j]);
                        }
                        else
                        {
                            double r = Sigmoid(gi[j] + gh[j]);
                            double z = Sigmoid(gi[H + j] + gh[H + j]);
                            double candidate = Math.Tanh(gi[(2 * H) + j] + (r * gh[(2 * H) + j]));
                            next[(t * H) + j] = ((1 - z) * candidate) + (z * h[j]);
                        }
                    }

                    Array.Copy(next, t * H, h, 0, H);
                }

                sequence = next;
                inputSize = H;
            }

            double[] logits = Affine(p["fc.weight"], p["fc.bias"], sequence, (T - 1) * H, H, SeedRecurrent.Classes);
            for (int j = 0; j < logits.Length; j++)
            {
                output[(n * SeedRecurrent.Classes) + j] = (float)logits[j];
            }
        }

        return output;
    }

    private static double[] Affine(float[] weight, float[] bias, double[] x, int offset, int inputs, int outputs)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double s = bias[o];
            for (int i = 0; i < inputs; i++)
            {
                s += (double)weight[(o * inputs) + i] * x[offset + i];
            }

            y[o] = s;
        }

        return y;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
