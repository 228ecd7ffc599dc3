namespace GraphCompiler;

/// <summary>
/// Loss functions that return the loss and write its gradient with respect to their input in place, with PyTorch's
/// semantics and no allocation. Inputs are row-major <c>[batch, classes]</c> (or any flat shape for
/// <see cref="MeanSquaredError"/>).
/// </summary>
/// <remarks>
/// The gradient span may be the very same memory as the logits or predictions (the gradient then replaces them),
/// which saves a buffer; any other overlap is rejected, because the values would be overwritten before they are read.
/// </remarks>
public static class Losses
{
    /// <summary>
    /// Cross-entropy from raw logits and integer class labels, as PyTorch's <c>nn.CrossEntropyLoss(reduction,
    /// label_smoothing, ignore_index)</c>. Writes d(loss)/d(logits) into <paramref name="gradient"/>.
    /// </summary>
    /// <param name="logits">Row-major <c>[batch, classes]</c>; batch is <c>labels.Length</c>.</param>
    /// <param name="labels">One class index per sample, in <c>[0, classes)</c>, or <paramref name="ignoreIndex"/>.</param>
    /// <param name="gradient">Same length as <paramref name="logits"/> (may be the logits themselves).</param>
    /// <param name="reduction">Mean divides by the number of samples whose label is not ignored.</param>
    /// <param name="labelSmoothing">
    /// In [0, 1]: the target becomes <c>(1 - s) * one_hot + s / classes</c>, exactly PyTorch's definition.
    /// </param>
    /// <param name="ignoreIndex">
    /// Samples with this label add nothing to the loss and get a zero gradient (PyTorch's default is -100). When
    /// every sample is ignored the mean is returned as 0 (PyTorch returns NaN), so that a padding-only batch
    /// cannot poison the weights.
    /// </param>
    /// <returns>The loss.</returns>
    public static float CrossEntropy(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<int> labels,
        Span<float> gradient,
        Reduction reduction = Reduction.Mean,
        float labelSmoothing = 0f,
        int ignoreIndex = -100)
    {
        int batch = labels.Length;
        if (batch == 0 || logits.Length == 0 || logits.Length % batch != 0)
        {
            throw new ArgumentException(
                $"CrossEntropy: {logits.Length} logits do not form [batch, classes] rows for a batch of {batch} labels.",
                nameof(logits));
        }

        CheckGradient(logits, gradient, nameof(gradient));
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must lie in [0, 1].");
        }

        int classes = logits.Length / batch;

        // Validate every label before writing anything: a bad label must not leave a half-written gradient.
        int counted = 0;
        for (int i = 0; i < batch; i++)
        {
            int y = labels[i];
            if (y == ignoreIndex)
            {
                continue;
            }

            if ((uint)y >= (uint)classes)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(labels), y, $"CrossEntropy: label of sample {i} is {y}, outside [0, {classes}).");
            }

            counted++;
        }

        float scale = reduction == Reduction.Mean ? (counted == 0 ? 0f : 1f / counted) : 1f;
        float smoothPerClass = labelSmoothing / classes;
        float onTarget = 1f - labelSmoothing;
        double total = 0;
        for (int i = 0; i < batch; i++)
        {
            ReadOnlySpan<float> x = logits.Slice(i * classes, classes);
            Span<float> g = gradient.Slice(i * classes, classes);
            int y = labels[i];
            if (y == ignoreIndex)
            {
                g.Clear();
                continue;
            }

            // Pass 1: the maximum (for a stable log-sum-exp) and what the smoothing term needs, read before
            // pass 2 may overwrite the logits with exponentials.
            float max = float.NegativeInfinity;
            for (int j = 0; j < x.Length; j++)
            {
                max = MathF.Max(max, x[j]);
            }

            float xy = x[y];
            double belowMax = 0; // sum of (max - x_j) >= 0: no cancellation, unlike C * lse - sum(x)
            if (labelSmoothing != 0f)
            {
                for (int j = 0; j < x.Length; j++)
                {
                    belowMax += max - x[j];
                }
            }

            // Pass 2: exponentials into the gradient, and their sum.
            float sum = 0f;
            for (int j = 0; j < x.Length; j++)
            {
                float e = MathF.Exp(x[j] - max);
                g[j] = e;
                sum += e;
            }

            double logSum = Math.Log(sum);
            double nll = max + logSum - xy; // -log softmax at the label
            double smooth = classes * logSum + belowMax; // sum over classes of -log softmax
            total += onTarget * nll + smoothPerClass * smooth;

            // Pass 3: softmax minus the (smoothed) target distribution, scaled by the reduction.
            float inv = 1f / sum;
            for (int j = 0; j < g.Length; j++)
            {
                g[j] = (g[j] * inv - smoothPerClass) * scale;
            }

            g[y] -= onTarget * scale;
        }

        return (float)(total * scale);
    }

    /// <summary>
    /// Mean squared error, as PyTorch's <c>nn.MSELoss(reduction)</c>. Writes d(loss)/d(predictions) into
    /// <paramref name="gradient"/>.
    /// </summary>
    /// <param name="predictions">Any shape, flat.</param>
    /// <param name="targets">Same length as <paramref name="predictions"/>.</param>
    /// <param name="gradient">Same length (may be the predictions themselves).</param>
    /// <param name="reduction">Mean divides by the number of elements.</param>
    /// <returns>The loss.</returns>
    public static float MeanSquaredError(
        ReadOnlySpan<float> predictions,
        ReadOnlySpan<float> targets,
        Span<float> gradient,
        Reduction reduction = Reduction.Mean)
    {
        if (predictions.Length == 0 || targets.Length != predictions.Length)
        {
            throw new ArgumentException(
                $"MeanSquaredError: {predictions.Length} predictions and {targets.Length} targets; both must be equal and non-zero.",
                nameof(targets));
        }

        CheckGradient(predictions, gradient, nameof(gradient));
        float scale = reduction == Reduction.Mean ? 1f / predictions.Length : 1f;
        float twiceScale = 2f * scale;
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            float d = predictions[i] - targets[i];
            total += (double)d * d;
            gradient[i] = twiceScale * d;
        }

        return (float)(total * scale);
    }

    private static void CheckGradient(ReadOnlySpan<float> input, Span<float> gradient, string name)
    {
        if (gradient.Length != input.Length)
        {
            throw new ArgumentException(
                $"The gradient holds {gradient.Length} floats; the input has {input.Length}.", name);
        }

        if (input.Overlaps((ReadOnlySpan<float>)gradient, out int offset) && offset != 0)
        {
            throw new ArgumentException(
                "The gradient partly overlaps the input: pass either separate memory or the input span itself.", name);
        }
    }
}
