namespace GraphCompiler;

/// <summary>Gradient-norm clipping over the whole gradient buffer, as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static unsafe class GradientClipping
{
    /// <summary>The global L2 norm of all gradients.</summary>
    public static float GlobalNorm(ReadOnlySpan<float> gradients)
    {
        fixed (float* g = gradients)
        {
            return (float)Math.Sqrt(OptimizerKernels.SumOfSquares(g, gradients.Length));
        }
    }

    /// <summary>
    /// Scales the gradients so that their global L2 norm is at most <paramref name="maxNorm"/>, with PyTorch's
    /// coefficient <c>maxNorm / (norm + 1e-6)</c> applied only when it is below 1. A NaN or infinite norm propagates
    /// into the gradients, as in PyTorch without <c>error_if_nonfinite</c>; check the returned norm to skip such steps.
    /// </summary>
    /// <returns>The norm before clipping.</returns>
    public static float ClipByGlobalNorm(Span<float> gradients, float maxNorm)
    {
        if (!(maxNorm >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must not be negative.");
        }

        fixed (float* g = gradients)
        {
            float norm = (float)Math.Sqrt(OptimizerKernels.SumOfSquares(g, gradients.Length));
            float coefficient = maxNorm / (norm + 1e-6f);
            if (!(coefficient >= 1f))
            {
                OptimizerKernels.Scale(g, gradients.Length, coefficient);
            }

            return norm;
        }
    }

    /// <summary>The global L2 norm of a gradient buffer.</summary>
    public static float GlobalNorm(AlignedBuffer gradients) => GlobalNorm(gradients.Span);

    /// <summary>Clips a gradient buffer in place; see <see cref="ClipByGlobalNorm(Span{float}, float)"/>.</summary>
    public static float ClipByGlobalNorm(AlignedBuffer gradients, float maxNorm) => ClipByGlobalNorm(gradients.Span, maxNorm);
}
