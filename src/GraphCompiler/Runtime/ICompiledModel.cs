namespace GraphCompiler;

/// <summary>
/// What every generated model offers, so that runtime code (data-parallel execution, trainers) can drive
/// any of them. A generated class implements it; its own members have the same meaning.
/// </summary>
public interface ICompiledModel
{
    /// <summary>Floats in one input sample.</summary>
    int InputLength { get; }

    /// <summary>Floats in one output sample.</summary>
    int OutputLength { get; }

    /// <summary>The largest batch this workspace runs.</summary>
    int MaxBatch { get; }

    ParameterSet Parameters { get; }

    /// <summary>Training mode: Forward keeps what Backward reads.</summary>
    bool Training { get; set; }

    /// <summary>dLoss/dParameters of the last Backward, in the parameters' layout.</summary>
    AlignedBuffer Gradients { get; }

    void Forward(ReadOnlySpan<float> input, Span<float> output);

    void Backward(ReadOnlySpan<float> outputGrad);

    void Backward(ReadOnlySpan<float> outputGrad, Span<float> inputGrad);
}
