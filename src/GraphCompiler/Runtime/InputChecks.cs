using System.ComponentModel;

namespace GraphCompiler;

/// <summary>Run-time argument checks shared by generated models: each throws before anything is written.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class InputChecks
{
    /// <summary>Returns the batch size implied by <paramref name="inputLength"/> and validates both spans.</summary>
    public static int Batch(string model, int inputLength, int inputSize, int outputLength, int outputSize, int maxBatch)
    {
        if (inputLength == 0 || inputLength % inputSize != 0)
        {
            throw new ArgumentException(
                $"{model}.Forward: the input holds {inputLength} floats, which is not a whole number of samples of " +
                $"{inputSize} floats (expected batch x {inputSize}, batch from 1 to {maxBatch}).", "input");
        }

        int batch = inputLength / inputSize;
        if (batch > maxBatch)
        {
            throw new ArgumentException(
                $"{model}.Forward: the input holds a batch of {batch} samples, above this workspace's maximum of " +
                $"{maxBatch}. Create the model with maxBatch: {batch} or more.", "input");
        }

        if (outputLength != batch * outputSize)
        {
            throw new ArgumentException(
                $"{model}.Forward: the output holds {outputLength} floats; a batch of {batch} needs " +
                $"{batch * outputSize} ({batch} x {outputSize}).", "output");
        }

        return batch;
    }

    /// <summary>
    /// Checks a token input: <paramref name="batch"/> sequences of <paramref name="length"/> tokens, each in
    /// [0, <paramref name="vocabulary"/>). Returns the batch when <paramref name="batch"/> is 0 (the first input decides it).
    /// </summary>
    public static int Tokens(string model, string name, ReadOnlySpan<int> tokens, int length, int batch, int vocabulary, int maxBatch)
    {
        if (batch == 0)
        {
            if (tokens.Length == 0 || tokens.Length % length != 0)
            {
                throw new ArgumentException(
                    $"{model}.Forward: '{name}' holds {tokens.Length} tokens, which is not a whole number of sequences of " +
                    $"{length} (expected batch x {length}, batch from 1 to {maxBatch}).", name);
            }

            batch = tokens.Length / length;
            if (batch > maxBatch)
            {
                throw new ArgumentException(
                    $"{model}.Forward: '{name}' holds a batch of {batch} sequences, above this workspace's maximum of " +
                    $"{maxBatch}. Create the model with maxBatch: {batch} or more.", name);
            }
        }
        else if (tokens.Length != batch * length)
        {
            throw new ArgumentException(
                $"{model}.Forward: '{name}' holds {tokens.Length} tokens; a batch of {batch} needs {batch * length} ({batch} x {length}).", name);
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabulary)
            {
                throw new ArgumentException(
                    $"{model}.Forward: '{name}' token {tokens[i]} at sample {i / length}, position {i % length} is outside the embedding's " +
                    $"{vocabulary} entries (0 to {vocabulary - 1}).", name);
            }
        }

        return batch;
    }

    /// <summary>Checks one step of incremental decoding: started, in order, one token per sample, room for the scores.</summary>
    public static void DecodeStep(string model, int batch, int decodedRows, int position, int targetLength, ReadOnlySpan<int> tokens, int vocabulary, int logProbsLength, int rowLength)
    {
        if (batch == 0)
        {
            throw new InvalidOperationException($"{model}.DecodeStep: call BeginDecode with the source batch first.");
        }

        if (position < 0 || position >= targetLength)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"{model}.DecodeStep: positions run from 0 to {targetLength - 1}.");
        }

        if (position > decodedRows)
        {
            throw new InvalidOperationException(
                $"{model}.DecodeStep: position {position} needs positions 0 to {position - 1} decoded first (the cache holds {decodedRows}).");
        }

        if (tokens.Length != batch)
        {
            throw new ArgumentException($"{model}.DecodeStep: {tokens.Length} tokens for a batch of {batch}; one per sample.", nameof(tokens));
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocabulary)
            {
                throw new ArgumentException($"{model}.DecodeStep: token {tokens[i]} of sample {i} is outside the embedding's {vocabulary} entries.", nameof(tokens));
            }
        }

        if (logProbsLength != batch * rowLength)
        {
            throw new ArgumentException($"{model}.DecodeStep: the scores span holds {logProbsLength} floats; {batch} x {rowLength} are expected.", "logProbs");
        }
    }

    /// <summary>Checks the output span of a model with token inputs.</summary>
    public static void Output(string model, int outputLength, int outputSize, int batch)
    {
        if (outputLength != batch * outputSize)
        {
            throw new ArgumentException(
                $"{model}.Forward: the output holds {outputLength} floats; a batch of {batch} needs " +
                $"{batch * outputSize} ({batch} x {outputSize}).", "output");
        }
    }

    /// <summary>Checks that a parameter set has the layout a model was compiled for (names, shapes, offsets).</summary>
    public static void Layout(string model, ParameterSet parameters, IReadOnlyList<ParameterInfo> expected)
    {
        IReadOnlyList<ParameterInfo> actual = parameters.Layout;
        if (ReferenceEquals(actual, expected))
        {
            return;
        }

        for (int i = 0; i < Math.Max(actual.Count, expected.Count); i++)
        {
            ParameterInfo? a = i < actual.Count ? actual[i] : null;
            ParameterInfo? e = i < expected.Count ? expected[i] : null;
            if (a is null || e is null || a.Name != e.Name || a.Offset != e.Offset || !a.Shape.AsSpan().SequenceEqual(e.Shape))
            {
                throw new ArgumentException(
                    $"{model}: the parameter set does not have this model's layout: tensor {i} is " +
                    $"{(a is null ? "missing" : $"'{a.Name}' {a.ShapeText}")} where '{e?.Name ?? "nothing"}' {e?.ShapeText ?? ""} is expected.",
                    "parameters");
            }
        }
    }

    /// <summary>Checks a Backward call against the last training Forward; returns its batch.</summary>
    public static int Backward(string model, int trainedBatch, int outputGradLength, int outputSize, int inputGradLength, int inputSize)
    {
        if (trainedBatch == 0)
        {
            throw new InvalidOperationException(
                $"{model}.Backward needs the activations of a Forward run in training mode: set Training = true, then call Forward, then Backward.");
        }

        if (outputGradLength != trainedBatch * outputSize)
        {
            throw new ArgumentException(
                $"{model}.Backward: the output gradient holds {outputGradLength} floats; the last Forward ran a batch of {trainedBatch}, " +
                $"so {trainedBatch * outputSize} ({trainedBatch} x {outputSize}) are expected.", "outputGrad");
        }

        if (inputGradLength != 0 && inputGradLength != trainedBatch * inputSize)
        {
            throw new ArgumentException(
                $"{model}.Backward: the input gradient span holds {inputGradLength} floats; {trainedBatch * inputSize} " +
                $"({trainedBatch} x {inputSize}) are expected, or none to skip it.", "inputGrad");
        }

        return trainedBatch;
    }
}
