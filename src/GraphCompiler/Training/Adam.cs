namespace GraphCompiler;

/// <summary>
/// Adam with PyTorch's <c>torch.optim.Adam</c> semantics: bias-corrected moments, epsilon added after the square root
/// of the corrected second moment, weight decay as an L2 term added to the gradient.
/// State: <c>exp_avg</c> (first moment) and <c>exp_avg_sq</c> (second moment).
/// </summary>
public unsafe class Adam : Optimizer
{
    private readonly bool _decoupled;

    /// <summary>Creates the optimizer with PyTorch's defaults.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Learning rate.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator, not negative.</param>
    /// <param name="weightDecay">L2 penalty added to the gradient.</param>
    public Adam(
        ParameterSet parameters,
        float learningRate = 1e-3f,
        float beta1 = 0.9f,
        float beta2 = 0.999f,
        float epsilon = 1e-8f,
        float weightDecay = 0f)
        : this(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>For <see cref="AdamW"/>: <paramref name="decoupled"/> applies the decay to the weights directly.</summary>
    private protected Adam(
        ParameterSet parameters, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled)
        : base(parameters, learningRate, "exp_avg", "exp_avg_sq")
    {
        CheckBeta(beta1, nameof(beta1));
        CheckBeta(beta2, nameof(beta2));
        if (!(epsilon >= 0f && float.IsFinite(epsilon)))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be finite and not negative.");
        }

        if (!(weightDecay >= 0f && float.IsFinite(weightDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be finite and not negative.");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
    }

    /// <inheritdoc/>
    public override string Name => "Adam";

    /// <summary>Decay of the first moment.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public float Beta2 { get; }

    /// <summary>Term added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Weight decay (coupled L2 for Adam, decoupled for AdamW).</summary>
    public float WeightDecay { get; }

    /// <inheritdoc/>
    protected override void Update(float* parameters, float* gradients, int length, float learningRate, int step)
    {
        // The scalars in double, as PyTorch computes them in Python floats before handing them to the kernel.
        double biasCorrection1 = 1.0 - Math.Pow(Beta1, step);
        double biasCorrection2 = 1.0 - Math.Pow(Beta2, step);
        OptimizerKernels.Adam(
            parameters, gradients, StateBuffer(0).Pointer, StateBuffer(1).Pointer, length,
            coupledDecay: _decoupled ? 0f : WeightDecay,
            paramScale: _decoupled ? (float)(1.0 - (double)learningRate * WeightDecay) : 1f,
            w1: 1f - Beta1,
            b2: Beta2,
            w2: 1f - Beta2,
            bc2Sqrt: (float)Math.Sqrt(biasCorrection2),
            eps: Epsilon,
            stepSize: (float)(learningRate / biasCorrection1));
    }

    private static void CheckBeta(float beta, string name)
    {
        if (!(beta >= 0f && beta < 1f))
        {
            throw new ArgumentOutOfRangeException(name, beta, "A beta must lie in [0, 1).");
        }
    }
}

/// <summary>
/// AdamW with PyTorch's <c>torch.optim.AdamW</c> semantics: Adam whose weight decay shrinks the weights directly
/// (<c>p *= 1 - lr * weight_decay</c>) instead of entering the moments. State as <see cref="Adam"/>.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer with PyTorch's defaults (weight decay 0.01).</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">Learning rate.</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator, not negative.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    public AdamW(
        ParameterSet parameters,
        float learningRate = 1e-3f,
        float beta1 = 0.9f,
        float beta2 = 0.999f,
        float epsilon = 1e-8f,
        float weightDecay = 0.01f)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }

    /// <inheritdoc/>
    public override string Name => "AdamW";
}
