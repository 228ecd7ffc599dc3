namespace GraphCompiler;

/// <summary>
/// A compiled sequence-to-sequence model that decodes one target position at a time with a key/value cache
/// (generated for a [Model] of source and target tokens whose result has one row of scores per target position).
/// <see cref="SequenceDecoding"/> runs greedy decoding and beam search over it.
/// </summary>
public interface IIncrementalDecoder
{
    /// <summary>Tokens per source sequence.</summary>
    int SourceLength { get; }

    /// <summary>Target positions: the most tokens one decoding produces.</summary>
    int TargetLength { get; }

    /// <summary>Scores per position (the output vocabulary).</summary>
    int Vocabulary { get; }

    /// <summary>The largest batch (beams times sources) the workspace holds.</summary>
    int MaxBatch { get; }

    /// <summary>Runs what does not depend on the target, once for a batch of sources.</summary>
    void BeginDecode(ReadOnlySpan<int> source);

    /// <summary>One position for every sample: the token at <paramref name="position"/> in, the next token's log-probabilities out.</summary>
    void DecodeStep(int position, ReadOnlySpan<int> tokens, Span<float> logProbs);

    /// <summary>Copies one sample's decoding state over another's.</summary>
    void CopyDecodeSample(int from, int to);
}
