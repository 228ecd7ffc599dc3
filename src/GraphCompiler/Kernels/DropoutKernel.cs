using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// The counter-based dropout mask shared by <see cref="DropoutKernel"/> and the attention kernel: whether element
/// <c>index</c> is kept is a pure function of (seed, index, p), so backward recomputes exactly the mask that
/// forward used without storing it, and any thread or vector width gets the same answer.
/// </summary>
public static class DropoutMask
{
    /// <summary>
    /// True when element <paramref name="index"/> is kept: the top 24 bits of a 32-bit hash of (seed, index),
    /// read as u ∈ [0, 1) in steps of 2^-24, satisfy u ≥ p. p ≤ 0 keeps everything and p ≥ 1 drops everything.
    /// The hash (the 64-bit seed folded to 32 bits, then the index mixed in by a multiply-xorshift hash) is all
    /// 32-bit multiplies and shifts, so the dropout loops compute 16 (or 8, 4) decisions per instruction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Keep(ulong seed, long index, float p) => Keep(Seed32(seed), (uint)index, Threshold(p));

    /// <summary>p·2^24 rounded up: the 24-bit draws below it are dropped (exact for every float p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Threshold(float p) =>
        p <= 0f ? 0u : p >= 1f ? 1u << 24 : (uint)Math.Ceiling(p * 16777216.0);

    /// <summary>Keep with a folded seed (<see cref="Seed32"/>) and a precomputed <see cref="Threshold"/>, for loops.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Keep(uint seed32, uint index, uint threshold) => (Hash(seed32, index) >> 8) >= threshold;

    /// <summary>The 64-bit seed folded into 32 well-mixed bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Seed32(ulong seed) => (uint)(Finalize(seed) >> 32);

    /// <summary>A multiply-xorshift hash of the index (spread by the golden ratio) and the seed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Hash(uint seed32, uint index)
    {
        uint h = seed32 ^ (index * 0x9E3779B9u);
        h ^= h >> 16;
        h *= 0x7FEB352Du;
        h ^= h >> 15;
        h *= 0x846CA68Bu;
        return h ^ (h >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<uint> Hash(Vector512<uint> seed32, Vector512<uint> index)
    {
        Vector512<uint> h = seed32 ^ (index * 0x9E3779B9u);
        h ^= Vector512.ShiftRightLogical(h, 16);
        h *= 0x7FEB352Du;
        h ^= Vector512.ShiftRightLogical(h, 15);
        h *= 0x846CA68Bu;
        return h ^ Vector512.ShiftRightLogical(h, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<uint> Hash(Vector256<uint> seed32, Vector256<uint> index)
    {
        Vector256<uint> h = seed32 ^ (index * 0x9E3779B9u);
        h ^= Vector256.ShiftRightLogical(h, 16);
        h *= 0x7FEB352Du;
        h ^= Vector256.ShiftRightLogical(h, 15);
        h *= 0x846CA68Bu;
        return h ^ Vector256.ShiftRightLogical(h, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<uint> Hash(Vector128<uint> seed32, Vector128<uint> index)
    {
        Vector128<uint> h = seed32 ^ (index * 0x9E3779B9u);
        h ^= Vector128.ShiftRightLogical(h, 16);
        h *= 0x7FEB352Du;
        h ^= Vector128.ShiftRightLogical(h, 15);
        h *= 0x846CA68Bu;
        return h ^ Vector128.ShiftRightLogical(h, 16);
    }

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
    public static void Forward(float* x, float* y, int length, float p, ulong seed) => Apply(x, y, length, p, seed, false);

    /// <summary>dx = (accumulate ? dx : 0) + mask·dy/(1 - p) with the forward's seed; dx may equal dy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* dy, float* dx, int length, float p, ulong seed, bool accumulate) => Apply(dy, dx, length, p, seed, accumulate);

    /// <summary>to = (accumulate ? to : 0) + mask·from/(1 - p): the forward and the backward are the same loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Apply(float* from, float* to, int length, float p, ulong seed, bool accumulate)
    {
        var draw = new DropoutDraw(p, seed);
        uint threshold = draw.Threshold, seed32 = draw.Seed32;
        float scale = draw.KeepScale;
        int e = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> s = Vector512.Create(seed32), t = Vector512.Create(threshold), index = Vector512<uint>.Indices;
            for (; e + 16 <= length; e += 16)
            {
                Vector512<float> keep = Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(DropoutMask.Hash(s, index + Vector512.Create((uint)e)), 8), t).AsSingle();
                Vector512<float> g = Vector512.ConditionalSelect(keep, Vector512.Load(from + e) * scale, Vector512<float>.Zero);
                Vector512.Store(accumulate ? Vector512.Load(to + e) + g : g, to + e);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> s = Vector256.Create(seed32), t = Vector256.Create(threshold), index = Vector256<uint>.Indices;
            for (; e + 8 <= length; e += 8)
            {
                Vector256<float> keep = Vector256.GreaterThanOrEqual(Vector256.ShiftRightLogical(DropoutMask.Hash(s, index + Vector256.Create((uint)e)), 8), t).AsSingle();
                Vector256<float> g = Vector256.ConditionalSelect(keep, Vector256.Load(from + e) * scale, Vector256<float>.Zero);
                Vector256.Store(accumulate ? Vector256.Load(to + e) + g : g, to + e);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<uint> s = Vector128.Create(seed32), t = Vector128.Create(threshold), index = Vector128<uint>.Indices;
            for (; e + 4 <= length; e += 4)
            {
                Vector128<float> keep = Vector128.GreaterThanOrEqual(Vector128.ShiftRightLogical(DropoutMask.Hash(s, index + Vector128.Create((uint)e)), 8), t).AsSingle();
                Vector128<float> g = Vector128.ConditionalSelect(keep, Vector128.Load(from + e) * scale, Vector128<float>.Zero);
                Vector128.Store(accumulate ? Vector128.Load(to + e) + g : g, to + e);
            }
        }

        for (; e < length; e++)
        {
            float g = DropoutMask.Keep(seed32, (uint)e, threshold) ? from[e] * scale : 0f;
            to[e] = accumulate ? to[e] + g : g;
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

/// <summary>
/// The constants of one dropout call with probability p and a seed: whether it drops anything, the folded seed and
/// threshold of <see cref="DropoutMask"/>, and the scale 1/(1-p) of what it keeps.
/// </summary>
internal readonly struct DropoutDraw
{
    public DropoutDraw(float p, ulong seed)
    {
        On = p > 0f;
        Threshold = DropoutMask.Threshold(p);
        Seed32 = DropoutMask.Seed32(seed);
        KeepScale = p >= 1f ? 0f : 1f / (1f - p);
    }

    public bool On { get; }

    public uint Threshold { get; }

    public uint Seed32 { get; }

    public float KeepScale { get; }
}
