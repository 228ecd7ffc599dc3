namespace GraphCompiler;

/// <summary>
/// Translation pairs encoded once (<see cref="TranslationPairs.Encode"/>) and served as minibatches in the shared
/// order of <see cref="TranslationPairs.BatchOrder"/>: training step <c>s</c> takes batch <c>s % BatchesPerEpoch</c>
/// of epoch <c>s / BatchesPerEpoch</c>, every batch full (an incomplete last batch of an epoch is skipped). The
/// PyTorch reference trainer (<c>bench/transformer/translate_torch.py</c>) follows the same rule, so both see the
/// same batches in the same order for the same seed.
/// </summary>
public sealed class TranslationBatches
{
    private const int L = TranslationPairs.MaxLength;

    private readonly int[] _source;         // (N, L) characters, EOS, PAD...
    private readonly int[] _decoderInput;   // (N, L) BOS, characters, PAD...
    private readonly int[] _decoderTarget;  // (N, L) characters, EOS, PAD...
    private int[] _order = [];
    private long _orderEpoch = -1;

    /// <summary>Encodes <paramref name="pairs"/>; batches of <paramref name="batchSize"/> in the order of <paramref name="seed"/>.</summary>
    public TranslationBatches(IReadOnlyList<TranslationPair> pairs, int batchSize, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (pairs.Count < batchSize)
        {
            throw new ArgumentException($"{pairs.Count} pairs do not fill one batch of {batchSize}.", nameof(pairs));
        }

        Count = pairs.Count;
        BatchSize = batchSize;
        Seed = seed;
        _source = new int[Count * L];
        _decoderInput = new int[Count * L];
        _decoderTarget = new int[Count * L];
        for (int i = 0; i < Count; i++)
        {
            TranslationPairs.Encode(pairs[i], _source.AsSpan(i * L, L), _decoderInput.AsSpan(i * L, L), _decoderTarget.AsSpan(i * L, L));
        }
    }

    /// <summary>Number of pairs.</summary>
    public int Count { get; }

    /// <summary>Pairs per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The seed of the batch order.</summary>
    public ulong Seed { get; }

    /// <summary>Full batches per epoch.</summary>
    public int BatchesPerEpoch => Count / BatchSize;

    /// <summary>The encoder inputs, (Count, MaxLength).</summary>
    public ReadOnlySpan<int> Source => _source;

    /// <summary>The decoder inputs, (Count, MaxLength).</summary>
    public ReadOnlySpan<int> DecoderInput => _decoderInput;

    /// <summary>The decoder targets, (Count, MaxLength).</summary>
    public ReadOnlySpan<int> DecoderTarget => _decoderTarget;

    /// <summary>The pair indices of training step <paramref name="step"/> (0-based).</summary>
    public ReadOnlySpan<int> Indices(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        long epoch = step / BatchesPerEpoch;
        if (epoch != _orderEpoch)
        {
            _order = TranslationPairs.BatchOrder(Count, checked((int)epoch), Seed);
            _orderEpoch = epoch;
        }

        return _order.AsSpan((int)(step % BatchesPerEpoch) * BatchSize, BatchSize);
    }

    /// <summary>Copies the batch of training step <paramref name="step"/>: three (BatchSize, MaxLength) token arrays.</summary>
    public void CopyBatch(long step, Span<int> source, Span<int> decoderInput, Span<int> decoderTarget)
    {
        int size = BatchSize * L;
        if (source.Length < size || decoderInput.Length < size || decoderTarget.Length < size)
        {
            throw new ArgumentException($"Each span must hold {BatchSize} x {L} tokens.");
        }

        ReadOnlySpan<int> indices = Indices(step);
        for (int k = 0; k < indices.Length; k++)
        {
            int i = indices[k];
            _source.AsSpan(i * L, L).CopyTo(source.Slice(k * L, L));
            _decoderInput.AsSpan(i * L, L).CopyTo(decoderInput.Slice(k * L, L));
            _decoderTarget.AsSpan(i * L, L).CopyTo(decoderTarget.Slice(k * L, L));
        }
    }
}
