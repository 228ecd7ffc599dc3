namespace GraphCompiler;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state advanced by 0x9E3779B97F4A7C15 and mixed into each output.
/// Chosen for the translation data because it is a few lines in any language, so that the C# and the PyTorch
/// trainers (<c>bench/transformer/translate_torch.py</c>) compute the same split and the same batch order.
/// </summary>
public struct SplitMix64(ulong seed)
{
    /// <summary>The increment of the state (the golden ratio in 64-bit fixed point).</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15;

    private ulong _state = seed;

    /// <summary>The next 64-bit output.</summary>
    public ulong Next()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>SplitMix64's output function.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Fisher-Yates shuffle: for i from length - 1 down to 1, swap item i with item <c>Next() % (i + 1)</c>. (The
    /// modulo bias, below 2^-40 for the sizes used here, is accepted for the sake of a one-line mirror in Python.)
    /// </summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)(Next() % (ulong)(i + 1));
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>0, 1, ..., count - 1 shuffled by <see cref="Shuffle{T}"/> with a generator seeded with <paramref name="seed"/>.</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int[] order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        new SplitMix64(seed).Shuffle(order.AsSpan());
        return order;
    }
}
