namespace GraphCompiler;

/// <summary>
/// A learning rate as a function of the step. An <see cref="Optimizer"/> with a <see cref="Optimizer.Schedule"/>
/// asks it before every update, passing the number of steps already taken (0 for the first update); a training
/// loop may also call it with an epoch index and set <see cref="Optimizer.LearningRate"/> itself.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate for the 0-based <paramref name="step"/>.</summary>
    float LearningRate(int step);
}

/// <summary>
/// Step decay, as PyTorch's <c>StepLR</c>: <c>initial * gamma^(step / stepSize)</c> (integer division).
/// </summary>
public sealed class StepDecaySchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initial">Learning rate for steps [0, stepSize).</param>
    /// <param name="stepSize">Number of steps between decays, above zero.</param>
    /// <param name="gamma">Factor applied at each decay.</param>
    public StepDecaySchedule(float initial, int stepSize, float gamma = 0.1f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        if (!(float.IsFinite(initial) && initial >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(initial), initial, "The learning rate must be finite and not negative.");
        }

        if (!(float.IsFinite(gamma) && gamma >= 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be finite and not negative.");
        }

        Initial = initial;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Learning rate before the first decay.</summary>
    public float Initial { get; }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public float LearningRate(int step) => (float)(Initial * Math.Pow(Gamma, Math.Max(step, 0) / StepSize));
}

/// <summary>
/// Linear warm-up then cosine decay, as Hugging Face's <c>get_cosine_schedule_with_warmup</c> with an optional floor:
/// <c>peak * step / warmupSteps</c> for <c>step &lt; warmupSteps</c> (so step 0 has rate 0 and still updates Adam's
/// moments), then <c>minimum + (peak - minimum) * (1 + cos(pi * progress)) / 2</c> with <c>progress</c> going from 0 to
/// 1 over the remaining steps, and <paramref name="minimum"/> from <paramref name="totalSteps"/> on.
/// </summary>
/// <param name="peak">Learning rate at the end of the warm-up.</param>
/// <param name="warmupSteps">Steps of linear warm-up (0 for none).</param>
/// <param name="totalSteps">Step at which the cosine reaches <paramref name="minimum"/>.</param>
/// <param name="minimum">Floor of the decay.</param>
public sealed class WarmupCosineSchedule(float peak, int warmupSteps, int totalSteps, float minimum = 0f) : ILearningRateSchedule
{
    /// <summary>Learning rate at the end of the warm-up.</summary>
    public float Peak { get; } = float.IsFinite(peak) && peak >= 0f
        ? peak
        : throw new ArgumentOutOfRangeException(nameof(peak), peak, "The peak learning rate must be finite and not negative.");

    /// <summary>Steps of linear warm-up.</summary>
    public int WarmupSteps { get; } = warmupSteps >= 0
        ? warmupSteps
        : throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "Warm-up steps must not be negative.");

    /// <summary>Step at which the decay ends.</summary>
    public int TotalSteps { get; } = totalSteps >= warmupSteps && totalSteps > 0
        ? totalSteps
        : throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "Total steps must be above zero and at least the warm-up steps.");

    /// <summary>Floor of the decay.</summary>
    public float Minimum { get; } = float.IsFinite(minimum) && minimum >= 0f && minimum <= peak
        ? minimum
        : throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "The minimum must be finite, not negative and at most the peak.");

    /// <inheritdoc/>
    public float LearningRate(int step)
    {
        step = Math.Max(step, 0);
        if (step < WarmupSteps)
        {
            return (float)((double)Peak * step / WarmupSteps);
        }

        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps));
        return (float)(Minimum + (Peak - (double)Minimum) * 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
