namespace GraphCompiler;

/// <summary>
/// The loss of a sequence model: negative log-likelihood of integer targets under log-probabilities
/// <c>[batch·positions, vocab]</c> (the output of a log-softmax), with padding positions ignored, as PyTorch's
/// <c>F.nll_loss(log_probs, targets, ignore_index=pad)</c>. Returns the loss and writes its gradient with
/// respect to the log-probabilities, without allocating.
/// </summary>
/// <remarks>
/// The gradient span may be the very same memory as the log-probabilities (the gradient then replaces them), as
/// with <see cref="Losses.CrossEntropy"/>; any other overlap is rejected. Every argument is validated before
/// anything is written.
/// </remarks>
public static class SequenceLoss
{
    /// <summary>
    /// Mean (or sum) over the non-ignored targets of -logProbs[t, targets[t]]; writes d(loss)/d(logProbs) into
    /// <paramref name="gradient"/>: -1/count (or -1) at each counted target, 0 elsewhere and on ignored rows.
    /// </summary>
    /// <param name="logProbs">Row-major <c>[targets.Length, vocab]</c>.</param>
    /// <param name="targets">One token per row, in <c>[0, vocab)</c>, or <paramref name="ignoreIndex"/>.</param>
    /// <param name="gradient">Same length as <paramref name="logProbs"/> (may be the log-probabilities themselves).</param>
    /// <param name="ignoreIndex">
    /// Rows with this target (the padding token) count for nothing. When every row is ignored the mean is 0
    /// (PyTorch returns NaN), so that a padding-only batch cannot poison the weights.
    /// </param>
    /// <param name="counted">The number of non-ignored targets (the mean's divisor).</param>
    /// <param name="reduction">Mean (PyTorch's default) or Sum.</param>
    /// <returns>The loss.</returns>
    public static float NegativeLogLikelihood(
        ReadOnlySpan<float> logProbs,
        ReadOnlySpan<int> targets,
        Span<float> gradient,
        int ignoreIndex,
        out int counted,
        Reduction reduction = Reduction.Mean)
    {
        int rows = targets.Length;
        if (rows == 0 || logProbs.Length == 0 || logProbs.Length % rows != 0)
        {
            throw new ArgumentException(
                $"SequenceLoss: {logProbs.Length} log-probabilities do not form [positions, vocab] rows for {rows} targets.",
                nameof(logProbs));
        }

        if (gradient.Length != logProbs.Length)
        {
            throw new ArgumentException(
                $"SequenceLoss: the gradient holds {gradient.Length} floats; the log-probabilities have {logProbs.Length}.",
                nameof(gradient));
        }

        if (logProbs.Overlaps((ReadOnlySpan<float>)gradient, out int offset) && offset != 0)
        {
            throw new ArgumentException(
                "SequenceLoss: the gradient partly overlaps the log-probabilities: pass either separate memory or the same span.",
                nameof(gradient));
        }

        int vocab = logProbs.Length / rows;
        counted = CountTargets(targets, ignoreIndex, vocab);
        float scale = reduction == Reduction.Mean ? (counted == 0 ? 0f : 1f / counted) : 1f;
        double total = 0;
        for (int t = 0; t < rows; t++)
        {
            int y = targets[t];
            Span<float> g = gradient.Slice(t * vocab, vocab);
            if (y == ignoreIndex)
            {
                g.Clear();
                continue;
            }

            total -= logProbs[t * vocab + y]; // read before the row is cleared (the spans may be the same memory)
            g.Clear();
            g[y] = -scale;
        }

        return (float)(total * scale);
    }

    /// <summary>
    /// The number of targets that are not <paramref name="ignoreIndex"/>, after checking each lies in
    /// <c>[0, vocab)</c>.
    /// </summary>
    public static int CountTargets(ReadOnlySpan<int> targets, int ignoreIndex, int vocab)
    {
        int counted = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            int y = targets[t];
            if (y == ignoreIndex)
            {
                continue;
            }

            if ((uint)y >= (uint)vocab)
            {
                throw new ArgumentException(
                    $"SequenceLoss: target of row {t} is {y}, outside [0, {vocab}) and not the ignore index {ignoreIndex}.",
                    nameof(targets));
            }

            counted++;
        }

        return counted;
    }
}
