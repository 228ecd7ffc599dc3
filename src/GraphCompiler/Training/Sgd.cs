namespace GraphCompiler;

/// <summary>
/// Stochastic gradient descent with PyTorch's <c>torch.optim.SGD</c> semantics: optional L2 weight decay added to the
/// gradient, momentum with dampening (the first step copies the gradient into the buffer), and Nesterov momentum.
/// State: <c>momentum_buffer</c> (only when momentum is not zero).
/// </summary>
public sealed unsafe class Sgd : Optimizer
{
    /// <summary>Creates the optimizer; the arguments and their checks are PyTorch's.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Learning rate.</param>
    /// <param name="momentum">Momentum factor (0: plain SGD).</param>
    /// <param name="dampening">Dampening of the gradient's share of the momentum.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient.</param>
    /// <param name="nesterov">Nesterov momentum (needs momentum &gt; 0 and dampening 0).</param>
    public Sgd(
        ParameterSet parameters,
        float learningRate,
        float momentum = 0f,
        float dampening = 0f,
        float weightDecay = 0f,
        bool nesterov = false)
        : base(parameters, learningRate, momentum != 0f ? ["momentum_buffer"] : [])
    {
        if (!(momentum >= 0f && float.IsFinite(momentum)))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be finite and not negative.");
        }

        if (!(weightDecay >= 0f && float.IsFinite(weightDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be finite and not negative.");
        }

        if (!float.IsFinite(dampening))
        {
            throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "Dampening must be finite.");
        }

        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum above zero and zero dampening.", nameof(nesterov));
        }

        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    /// <inheritdoc/>
    public override string Name => "SGD";

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Dampening for momentum.</summary>
    public float Dampening { get; }

    /// <summary>L2 penalty.</summary>
    public float WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(float* parameters, float* gradients, int length, float learningRate, int step)
    {
        if (Momentum == 0f)
        {
            OptimizerKernels.Sgd(parameters, gradients, length, learningRate, WeightDecay);
            return;
        }

        AlignedBuffer buffer = StateBuffer(0);
        bool first = step == 1;
        if (first)
        {
            buffer.Clear(); // 0 * buffer must be 0 even if a restored buffer held NaN
        }

        OptimizerKernels.SgdMomentum(
            parameters, gradients, buffer.Pointer, length, learningRate, WeightDecay,
            bufferScale: first ? 0f : Momentum,
            gradScale: first ? 1f : 1f - Dampening,
            nesterovGrad: Nesterov ? 1f : 0f,
            nesterovBuffer: Nesterov ? Momentum : 1f);
    }
}
