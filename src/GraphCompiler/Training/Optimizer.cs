namespace GraphCompiler;

/// <summary>
/// Base of the optimizers: updates a <see cref="ParameterSet"/> in place from a gradient buffer of the same length
/// (<see cref="ParameterSet.BufferLength"/>), with its state in preallocated buffers. <see cref="Step(ReadOnlySpan{float})"/>
/// allocates nothing.
/// </summary>
/// <remarks>
/// The update runs over the whole parameter buffer, alignment gaps included: the gaps hold zeros in both buffers and
/// stay zero under every update rule here, and one contiguous loop vectorizes better than one loop per tensor.
/// </remarks>
public abstract unsafe class Optimizer
{
    private readonly (string Name, AlignedBuffer Buffer)[] _state;
    private float _learningRate;
    private int _stepCount;

    /// <summary>Creates the optimizer and one zeroed state buffer (of the parameter buffer's length) per name.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Initial learning rate (finite, not negative).</param>
    /// <param name="stateNames">Names of the per-parameter state buffers, PyTorch's (<c>exp_avg</c>, ...).</param>
    protected Optimizer(ParameterSet parameters, float learningRate, params string[] stateNames)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        LearningRate = learningRate;
        _state = new (string, AlignedBuffer)[stateNames.Length];
        for (int i = 0; i < stateNames.Length; i++)
        {
            _state[i] = (stateNames[i], new AlignedBuffer(parameters.BufferLength));
        }
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The optimizer's name as PyTorch's class name (<c>SGD</c>, <c>Adam</c>, <c>AdamW</c>); checkpoints record it.</summary>
    public abstract string Name { get; }

    /// <summary>The learning rate of the next step (overwritten before each step when <see cref="Schedule"/> is set).</summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(float.IsFinite(value) && value >= 0f))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be finite and not negative.");
            }

            _learningRate = value;
        }
    }

    /// <summary>
    /// When set, each step first sets <see cref="LearningRate"/> to <c>Schedule.LearningRate(StepCount)</c>, so a
    /// schedule resumes where it stopped once <see cref="StepCount"/> is restored from a checkpoint.
    /// </summary>
    public ILearningRateSchedule? Schedule { get; set; }

    /// <summary>
    /// Number of steps taken (PyTorch's <c>state['step']</c>). Settable to restore a checkpoint; Adam's bias correction
    /// depends on it.
    /// </summary>
    public int StepCount
    {
        get => _stepCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _stepCount = value;
        }
    }

    /// <summary>
    /// The state buffers by name, each <see cref="ParameterSet.BufferLength"/> floats laid out like the parameters.
    /// The buffers are live: writing into them (with <see cref="StepCount"/>) restores a saved state.
    /// </summary>
    public IReadOnlyList<(string Name, AlignedBuffer Buffer)> State => _state;

    /// <summary>Applies one update from <paramref name="gradients"/> (<see cref="ParameterSet.BufferLength"/> floats).</summary>
    public void Step(ReadOnlySpan<float> gradients)
    {
        int length = Parameters.BufferLength;
        if (gradients.Length != length)
        {
            throw new ArgumentException(
                $"{Name}.Step: the gradient holds {gradients.Length} floats; the parameter buffer holds {length}.",
                nameof(gradients));
        }

        if (Schedule is { } schedule)
        {
            LearningRate = schedule.LearningRate(_stepCount);
        }

        fixed (float* g = gradients)
        {
            Update(Parameters.Pointer, g, length, _learningRate, _stepCount + 1);
        }

        _stepCount++;
        Parameters.MarkModified(); // once per step: packed weight copies are rebuilt before the next forward pass
    }

    /// <summary>Applies one update from a gradient buffer.</summary>
    public void Step(AlignedBuffer gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        Step(gradients.Span);
    }

    /// <summary>Applies one update from gradients held in a parameter set of the same layout.</summary>
    public void Step(ParameterSet gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        Step(gradients.ReadAll());
    }

    /// <summary>Clears the state and the step count: the next step behaves as the first.</summary>
    public void Reset()
    {
        foreach ((string _, AlignedBuffer buffer) in _state)
        {
            buffer.Clear();
        }

        _stepCount = 0;
    }

    /// <summary>The state buffer at <paramref name="index"/> in the order of the names given to the constructor.</summary>
    protected AlignedBuffer StateBuffer(int index) => _state[index].Buffer;

    /// <summary>Updates <paramref name="length"/> parameters in place.</summary>
    /// <param name="parameters">The parameter buffer.</param>
    /// <param name="gradients">The gradient buffer.</param>
    /// <param name="length">Number of floats in both.</param>
    /// <param name="learningRate">This step's learning rate.</param>
    /// <param name="step">The 1-based number of this step (PyTorch's <c>step</c> after its increment).</param>
    protected abstract void Update(float* parameters, float* gradients, int length, float learningRate, int step);
}
