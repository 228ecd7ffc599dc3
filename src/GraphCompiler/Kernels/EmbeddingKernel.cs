using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace GraphCompiler.Kernels;

/// <summary>
/// Token embedding lookup (nn.Embedding) times a scale (sqrt(d_model) in the Transformer paper; 1 for a plain
/// lookup), plus an optional positional table, and its gradient. Token ids are not range-checked here: the
/// caller validates its inputs once (a debug build asserts).
/// </summary>
public static unsafe class EmbeddingKernel
{
    /// <summary>
    /// y[t] = weight[tokens[t]]·scale (+ positional[t] when not null) for t &lt; count; weight is [vocab][dim],
    /// positional and y are [count][dim].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(int* tokens, int count, float* weight, int dim, float scale, float* positional, float* y)
    {
        for (int t = 0; t < count; t++)
        {
            Debug.Assert(tokens[t] >= 0, "token ids are non-negative");
            float* yt = y + (nint)t * dim;
            float* row = weight + (nint)tokens[t] * dim;
            if (positional != null)
            {
                float* pt = positional + (nint)t * dim;
                if (pt != yt)
                {
                    new ReadOnlySpan<float>(pt, dim).CopyTo(new Span<float>(yt, dim));
                }

                VectorOps.Axpy(scale, row, yt, dim);
            }
            else
            {
                new ReadOnlySpan<float>(row, dim).CopyTo(new Span<float>(yt, dim));
                if (scale != 1f)
                {
                    VectorOps.Scale(yt, scale, dim);
                }
            }
        }
    }

    /// <summary>dWeight[tokens[t]] += scale·dy[t] for t &lt; count (repeated tokens add up).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(int* tokens, int count, float* dy, int dim, float scale, float* dWeight)
    {
        for (int t = 0; t < count; t++)
        {
            VectorOps.Axpy(scale, dy + (nint)t * dim, dWeight + (nint)tokens[t] * dim, dim);
        }
    }

    /// <summary>
    /// The Transformer paper's positional encoding, [length][dim]: table[p][2i] = sin(p / 10000^(2i/dim)),
    /// table[p][2i + 1] = cos(p / 10000^(2i/dim)), computed in double and rounded once.
    /// </summary>
    public static void Sinusoidal(float* table, int length, int dim)
    {
        for (int p = 0; p < length; p++)
        {
            for (int c = 0; c < dim; c++)
            {
                int even = c & ~1;
                double angle = p / Math.Pow(10000.0, (double)even / dim);
                table[(nint)p * dim + c] = (float)((c & 1) == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        }
    }
}
