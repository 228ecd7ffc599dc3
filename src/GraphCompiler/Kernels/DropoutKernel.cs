using System.Runtime.CompilerServices;

namespace GraphCompiler.Kernels;

/// <summary>
/// The counter-based dropout mask shared by <see cref="DropoutKernel"/> and the attention kernel: whether element
/// <c>index</c> is kept is a pure function of (seed, index, p), so backward recomputes exactly the mask that
/// forward used without storing it, and any thread or vector width gets the same answer.
/// </summary>
public static class DropoutMask
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL; // SplitMix64's increment (2^64 / golden ratio)

    /// <summary>
    /// True when element <paramref name="index"/> is kept: the top 24 bits of SplitMix64(seed + (index + 1)·γ),
    /// read as u ∈ [0, 1) in steps of 2^-24, satisfy u ≥ p. p ≤ 0 keeps everything and p ≥ 1 drops everything.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Keep(ulong seed, long index, float p)
    {
        ulong z = Finalize(seed + ((ulong)index + 1) * Gamma);
        return (z >> 40) >= Threshold(p);
    }

    /// <summary>p·2^24 rounded up: the 24-bit draws below it are dropped (exact for every float p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Threshold(float p) =>
        p <= 0f ? 0UL : p >= 1f ? 1UL << 24 : (ulong)Math.Ceiling(p * 16777216.0);

    /// <summary>Keep with a precomputed <see cref="Threshold"/>, for loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Keep(ulong seed, long index, ulong threshold) =>
        (Finalize(seed + ((ulong)index + 1) * Gamma) >> 40) >= threshold;

    /// <summary>SplitMix64's output function (Stafford's Mix13): a bijection that scatters every input bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Dropout (nn.Dropout in training mode) over a flat run of floats: element e is kept when
/// <see cref="DropoutMask.Keep(ulong, long, float)"/>(seed, e, p) and then scaled by 1/(1 - p), else zeroed.
/// The mask is recomputed, never stored; derive a seed per dropout site and sample with <see cref="Mix"/>.
/// </summary>
public static unsafe class DropoutKernel
{
    /// <summary>y = mask·x/(1 - p); <paramref name="y"/> may equal <paramref name="x"/>. p ≥ 1 gives zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* y, int length, float p, ulong seed)
    {
        ulong threshold = DropoutMask.Threshold(p);
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        for (int e = 0; e < length; e++)
        {
            y[e] = DropoutMask.Keep(seed, e, threshold) ? x[e] * scale : 0f;
        }
    }

    /// <summary>dx = (accumulate ? dx : 0) + mask·dy/(1 - p) with the forward's seed; dx may equal dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* dy, float* dx, int length, float p, ulong seed, bool accumulate)
    {
        ulong threshold = DropoutMask.Threshold(p);
        float scale = p >= 1f ? 0f : 1f / (1f - p);
        for (int e = 0; e < length; e++)
        {
            float g = DropoutMask.Keep(seed, e, threshold) ? dy[e] * scale : 0f;
            dx[e] = accumulate ? dx[e] + g : g;
        }
    }

    /// <summary>
    /// A well-mixed seed from two values (a base seed and a site, sample or step number): different inputs give
    /// unrelated masks, and Mix(a, b) ≠ Mix(b, a) in general.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong a, ulong b) =>
        DropoutMask.Finalize(DropoutMask.Finalize(a + 0x9E3779B97F4A7C15UL) ^ (b * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL));
}
