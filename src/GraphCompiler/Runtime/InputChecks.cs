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
}
