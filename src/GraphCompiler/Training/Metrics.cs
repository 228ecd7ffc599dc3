namespace GraphCompiler;

/// <summary>Classification metrics over row-major <c>[batch, classes]</c> logits (or probabilities).</summary>
public static class Metrics
{
    /// <summary>
    /// Index of the largest value; the first one on ties, and the first NaN if there is one (as
    /// <c>torch.argmax</c>). Returns -1 for an empty span.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return -1;
        }

        int best = 0;
        float bestValue = values[0];
        if (float.IsNaN(bestValue))
        {
            return 0;
        }

        for (int i = 1; i < values.Length; i++)
        {
            float v = values[i];
            if (float.IsNaN(v))
            {
                return i;
            }

            if (v > bestValue)
            {
                bestValue = v;
                best = i;
            }
        }

        return best;
    }

    /// <summary>The predicted class of each row; the batch is <c>predictions.Length</c>.</summary>
    public static void ArgMax(ReadOnlySpan<float> logits, Span<int> predictions)
    {
        int classes = Classes(logits, predictions.Length);
        for (int i = 0; i < predictions.Length; i++)
        {
            predictions[i] = ArgMax(logits.Slice(i * classes, classes));
        }
    }

    /// <summary>Number of rows whose arg-max equals the label; the batch is <c>labels.Length</c>.</summary>
    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        int classes = Classes(logits, labels.Length);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (ArgMax(logits.Slice(i * classes, classes)) == labels[i])
            {
                correct++;
            }
        }

        return correct;
    }

    /// <summary>Fraction of rows whose arg-max equals the label, in [0, 1].</summary>
    public static float Accuracy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels) =>
        (float)CountCorrect(logits, labels) / labels.Length;

    private static int Classes(ReadOnlySpan<float> logits, int batch)
    {
        if (batch == 0 || logits.Length == 0 || logits.Length % batch != 0)
        {
            throw new ArgumentException(
                $"{logits.Length} logits do not form [batch, classes] rows for a batch of {batch}.", nameof(logits));
        }

        return logits.Length / batch;
    }
}
