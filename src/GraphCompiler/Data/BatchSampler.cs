namespace GraphCompiler;

/// <summary>
/// Minibatches over an in-memory data set in a seeded order: <see cref="Shuffle"/> once per epoch, then
/// <see cref="CopyBatch"/> for each batch index fills caller-provided spans. Nothing is allocated after construction.
/// </summary>
/// <remarks>
/// The order depends only on the seed (not on earlier shuffles), so epoch <c>e</c> of a run can be reproduced by
/// <c>Shuffle(baseSeed + e)</c>, also after resuming from a checkpoint. Every sample appears exactly once per epoch;
/// the last batch is smaller unless <c>dropLast</c> is set (then the remainder is skipped, as PyTorch's
/// <c>DataLoader(drop_last=True)</c>).
/// </remarks>
public sealed class BatchSampler
{
    private readonly float[] _samples;
    private readonly int[] _labels;
    private readonly int[] _order;

    /// <summary>Samples over a <see cref="LabeledImages"/> set.</summary>
    public BatchSampler(LabeledImages data, int batchSize, bool dropLast = false)
        : this(data.Images, data.SampleSize, data.Labels, batchSize, dropLast)
    {
    }

    /// <summary>Samples over flat samples of <paramref name="sampleSize"/> floats each, one label per sample.</summary>
    public BatchSampler(float[] samples, int sampleSize, int[] labels, int batchSize, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (samples.Length != (long)labels.Length * sampleSize)
        {
            throw new ArgumentException(
                $"{samples.Length} floats are not {labels.Length} samples of {sampleSize}.", nameof(samples));
        }

        _samples = samples;
        _labels = labels;
        SampleSize = sampleSize;
        BatchSize = batchSize;
        BatchCount = dropLast ? labels.Length / batchSize : (labels.Length + batchSize - 1) / batchSize;
        _order = new int[labels.Length];
        ResetOrder();
    }

    /// <summary>Number of samples.</summary>
    public int Count => _labels.Length;

    /// <summary>Floats per sample.</summary>
    public int SampleSize { get; }

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount { get; }

    /// <summary>The current order: the sample index at each position.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Sets a random order determined by <paramref name="epochSeed"/> alone (Fisher-Yates over <see cref="SeededRandom"/>).</summary>
    public void Shuffle(int epochSeed)
    {
        ResetOrder();
        var rng = new SeededRandom((ulong)(uint)epochSeed);
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
    }

    /// <summary>Restores the file order (for evaluation).</summary>
    public void ResetOrder()
    {
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }
    }

    /// <summary>Number of samples in batch <paramref name="batchIndex"/>.</summary>
    public int BatchLength(int batchIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchCount);
        return Math.Min(BatchSize, Count - batchIndex * BatchSize);
    }

    /// <summary>
    /// Copies batch <paramref name="batchIndex"/> to the front of <paramref name="samples"/> (length x
    /// <see cref="SampleSize"/> floats) and <paramref name="labels"/>; returns the number of samples copied.
    /// </summary>
    public int CopyBatch(int batchIndex, Span<float> samples, Span<int> labels)
    {
        int length = BatchLength(batchIndex);
        if (samples.Length < length * SampleSize || labels.Length < length)
        {
            throw new ArgumentException(
                $"Batch {batchIndex} needs {length * SampleSize} floats and {length} labels; " +
                $"the spans hold {samples.Length} and {labels.Length}.");
        }

        int start = batchIndex * BatchSize;
        for (int k = 0; k < length; k++)
        {
            int index = _order[start + k];
            _samples.AsSpan(index * SampleSize, SampleSize).CopyTo(samples.Slice(k * SampleSize, SampleSize));
            labels[k] = _labels[index];
        }

        return length;
    }
}
