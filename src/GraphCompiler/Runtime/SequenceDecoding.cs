namespace GraphCompiler;

/// <summary>
/// Greedy decoding and beam search over an <see cref="IIncrementalDecoder"/>: each new token costs one decoder
/// step (earlier keys and values stay cached in the model's workspace). The buffers are allocated here, once,
/// so decoding allocates nothing per token or per call.
/// </summary>
public sealed class SequenceDecoding
{
    private readonly IIncrementalDecoder _model;
    private readonly int[] _tokens;
    private readonly float[] _logProbs;
    private readonly bool[] _finished;
    private readonly int[] _sources;
    private readonly float[] _scores;
    private readonly float[] _candidateScores;
    private readonly int[] _candidateBeams;
    private readonly int[] _candidateTokens;
    private readonly int[] _history;
    private readonly int[] _newHistory;
    private readonly int[] _spareOf;

    /// <param name="model">The compiled model, in inference mode.</param>
    /// <param name="startToken">The token the target starts with (BOS).</param>
    /// <param name="endToken">The token that ends a sequence (EOS); it is not part of the output.</param>
    public SequenceDecoding(IIncrementalDecoder model, int startToken, int endToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(startToken);
        ArgumentOutOfRangeException.ThrowIfNegative(endToken);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(startToken, model.Vocabulary);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(endToken, model.Vocabulary);
        _model = model;
        StartToken = startToken;
        EndToken = endToken;
        int batch = model.MaxBatch;
        _tokens = new int[batch];
        _logProbs = new float[batch * model.Vocabulary];
        _finished = new bool[batch];
        _sources = new int[batch * model.SourceLength];
        _scores = new float[batch];
        _candidateScores = new float[batch];
        _candidateBeams = new int[batch];
        _candidateTokens = new int[batch];
        _history = new int[batch * model.TargetLength];
        _newHistory = new int[batch * model.TargetLength];
        _spareOf = new int[batch];
    }

    public int StartToken { get; }

    public int EndToken { get; }

    /// <summary>
    /// Greedy decoding of a batch of sources (batch x SourceLength tokens): at each position the most likely token.
    /// <paramref name="output"/> receives batch x TargetLength tokens, zero after each sequence's end;
    /// <paramref name="lengths"/> (batch) the number of tokens before the end token.
    /// </summary>
    public void Greedy(ReadOnlySpan<int> sources, Span<int> output, Span<int> lengths)
    {
        int length = _model.TargetLength, vocabulary = _model.Vocabulary;
        if (sources.Length == 0 || sources.Length % _model.SourceLength != 0)
        {
            throw new ArgumentException($"Greedy: {sources.Length} source tokens is not a whole number of sequences of {_model.SourceLength}.", nameof(sources));
        }

        int batch = sources.Length / _model.SourceLength;
        if (output.Length != batch * length || lengths.Length != batch)
        {
            throw new ArgumentException($"Greedy: a batch of {batch} needs an output of {batch * length} tokens and {batch} lengths; got {output.Length} and {lengths.Length}.");
        }

        _model.BeginDecode(sources);
        output.Clear();
        Span<int> tokens = _tokens.AsSpan(0, batch);
        Span<bool> finished = _finished.AsSpan(0, batch);
        tokens.Fill(StartToken);
        finished.Clear();
        lengths.Fill(length);
        Span<float> logProbs = _logProbs.AsSpan(0, batch * vocabulary);
        int open = batch;
        for (int position = 0; position < length && open > 0; position++)
        {
            _model.DecodeStep(position, tokens, logProbs);
            for (int n = 0; n < batch; n++)
            {
                if (finished[n])
                {
                    continue;
                }

                int best = ArgMax(logProbs.Slice(n * vocabulary, vocabulary));
                if (best == EndToken)
                {
                    finished[n] = true;
                    lengths[n] = position;
                    open--;
                    continue;
                }

                output[n * length + position] = best;
                tokens[n] = best;
            }
        }
    }

    /// <summary>
    /// Beam search of width <paramref name="beamWidth"/> for one source: the sequence of the highest total
    /// log-probability among those that ended (or reached the last position). The workspace needs MaxBatch of
    /// at least twice the width (the second half holds beams while they are reordered). Returns the length
    /// written to <paramref name="output"/> (TargetLength tokens, zero after the end).
    /// </summary>
    public int BeamSearch(ReadOnlySpan<int> source, int beamWidth, Span<int> output, out float score)
    {
        int length = _model.TargetLength, vocabulary = _model.Vocabulary, sourceLength = _model.SourceLength;
        ArgumentOutOfRangeException.ThrowIfLessThan(beamWidth, 1);
        if (2 * beamWidth > _model.MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(beamWidth), beamWidth, $"BeamSearch: a width of {beamWidth} needs a model workspace of MaxBatch {2 * beamWidth} or more; it has {_model.MaxBatch}.");
        }

        if (source.Length != sourceLength || output.Length != length)
        {
            throw new ArgumentException($"BeamSearch: one source of {sourceLength} tokens and an output of {length}; got {source.Length} and {output.Length}.");
        }

        for (int b = 0; b < beamWidth; b++)
        {
            source.CopyTo(_sources.AsSpan(b * sourceLength, sourceLength));
        }

        _model.BeginDecode(_sources.AsSpan(0, beamWidth * sourceLength));
        Span<int> tokens = _tokens.AsSpan(0, beamWidth);
        Span<float> scores = _scores.AsSpan(0, beamWidth);
        tokens.Fill(StartToken);
        scores.Fill(float.NegativeInfinity);
        scores[0] = 0; // every beam starts identical: expand one
        _history.AsSpan().Clear();
        float bestScore = float.NegativeInfinity;
        int bestLength = -1;
        output.Clear();
        Span<float> logProbs = _logProbs.AsSpan(0, beamWidth * vocabulary);
        for (int position = 0; position < length; position++)
        {
            _model.DecodeStep(position, tokens, logProbs);

            // The best continuations that do not end, and the best that does.
            int kept = 0;
            for (int b = 0; b < beamWidth; b++)
            {
                if (float.IsNegativeInfinity(scores[b]))
                {
                    continue;
                }

                for (int v = 0; v < vocabulary; v++)
                {
                    float candidate = scores[b] + logProbs[b * vocabulary + v];
                    if (v == EndToken)
                    {
                        if (candidate > bestScore)
                        {
                            bestScore = candidate;
                            bestLength = position;
                            _history.AsSpan(b * length, position).CopyTo(output);
                            output.Slice(position).Clear();
                        }

                        continue;
                    }

                    Insert(candidate, b, v, ref kept, beamWidth);
                }
            }

            if (kept == 0 || _candidateScores[0] <= bestScore)
            {
                break; // scores only fall: no open beam can beat the best ended sequence
            }

            // New beams: parent's history plus the token; the parents' caches move to their children.
            for (int j = 0; j < kept; j++)
            {
                _history.AsSpan(_candidateBeams[j] * length, position).CopyTo(_newHistory.AsSpan(j * length));
                _newHistory[j * length + position] = _candidateTokens[j];
            }

            Reorder(kept, beamWidth);
            _newHistory.AsSpan(0, beamWidth * length).CopyTo(_history);
            for (int j = 0; j < beamWidth; j++)
            {
                scores[j] = j < kept ? _candidateScores[j] : float.NegativeInfinity;
                tokens[j] = j < kept ? _candidateTokens[j] : StartToken;
            }

            if (position == length - 1 && scores[0] > bestScore)
            {
                bestScore = scores[0];
                bestLength = length;
                _history.AsSpan(0, length).CopyTo(output);
            }
        }

        score = bestScore;
        return Math.Max(bestLength, 0);
    }

    /// <summary>Keeps the top candidates sorted by score, best first.</summary>
    private void Insert(float candidate, int beam, int token, ref int kept, int width)
    {
        if (kept == width && candidate <= _candidateScores[width - 1])
        {
            return;
        }

        int i = kept < width ? kept++ : width - 1;
        while (i > 0 && _candidateScores[i - 1] < candidate)
        {
            _candidateScores[i] = _candidateScores[i - 1];
            _candidateBeams[i] = _candidateBeams[i - 1];
            _candidateTokens[i] = _candidateTokens[i - 1];
            i--;
        }

        _candidateScores[i] = candidate;
        _candidateBeams[i] = beam;
        _candidateTokens[i] = token;
    }

    /// <summary>New beam j takes the cache of old beam parent[j]: parents go to spare slots first, so no copy overwrites a source.</summary>
    private void Reorder(int kept, int width)
    {
        Span<int> spare = _spareOf.AsSpan(0, width);
        spare.Fill(-1);
        int slots = 0;
        for (int j = 0; j < kept; j++)
        {
            int parent = _candidateBeams[j];
            if (parent != j && spare[parent] < 0)
            {
                spare[parent] = width + slots++;
                _model.CopyDecodeSample(parent, spare[parent]);
            }
        }

        for (int j = 0; j < kept; j++)
        {
            int parent = _candidateBeams[j];
            if (parent != j)
            {
                _model.CopyDecodeSample(spare[parent], j);
            }
        }
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
