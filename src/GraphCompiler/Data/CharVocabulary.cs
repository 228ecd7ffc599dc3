namespace GraphCompiler;

/// <summary>
/// The fixed character vocabulary of the German-English translation task: four special tokens, then the characters
/// of <see cref="Characters"/>. The model's embedding size is <see cref="Size"/>, a compile-time constant; ids from
/// <see cref="CharacterCount"/> + <see cref="FirstCharacter"/> up to <see cref="Size"/> - 1 are never produced.
/// </summary>
/// <remarks>
/// <c>bench/transformer/translate_torch.py</c> mirrors this table exactly; change both together.
/// </remarks>
public static class CharVocabulary
{
    /// <summary>Padding; ignored by the loss and masked in attention.</summary>
    public const int Pad = 0;

    /// <summary>Begin of sequence: the decoder's first input.</summary>
    public const int Bos = 1;

    /// <summary>End of sequence.</summary>
    public const int Eos = 2;

    /// <summary>A character outside <see cref="Characters"/>.</summary>
    public const int Unk = 3;

    /// <summary>The id of <see cref="Characters"/>[0].</summary>
    public const int FirstCharacter = 4;

    /// <summary>The characters, in id order from <see cref="FirstCharacter"/>: space, apostrophe, hyphen, period, comma, a-z, ä ö ü ß é.</summary>
    public const string Characters = " '-.,abcdefghijklmnopqrstuvwxyzäöüßé";

    /// <summary>Number of characters (36).</summary>
    public const int CharacterCount = 36;

    /// <summary>Token count (40) rounded up to a multiple of 16: the embedding and output size of the model.</summary>
    public const int Size = 48;

    /// <summary>The id of <paramref name="c"/>, or <see cref="Unk"/>.</summary>
    public static int Encode(char c)
    {
        int i = Characters.IndexOf(c, StringComparison.Ordinal);
        return i < 0 ? Unk : FirstCharacter + i;
    }

    /// <summary>Whether <paramref name="c"/> has an id of its own.</summary>
    public static bool Contains(char c) => Characters.Contains(c, StringComparison.Ordinal);

    /// <summary>Whether every character of <paramref name="text"/> has an id of its own.</summary>
    public static bool ContainsAll(string text)
    {
        foreach (char c in text)
        {
            if (!Contains(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The character of a character id; null for special and unused ids.</summary>
    public static char? Decode(int id) =>
        id >= FirstCharacter && id < FirstCharacter + CharacterCount ? Characters[id - FirstCharacter] : null;

    /// <summary>
    /// The text of a token sequence: characters up to the first <see cref="Eos"/> (or <see cref="Pad"/>), skipping
    /// <see cref="Bos"/>; <see cref="Unk"/> and unused ids become '?'.
    /// </summary>
    public static string Decode(ReadOnlySpan<int> ids)
    {
        var text = new System.Text.StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if (id is Eos or Pad)
            {
                break;
            }

            if (id != Bos)
            {
                text.Append(Decode(id) ?? '?');
            }
        }

        return text.ToString();
    }
}
