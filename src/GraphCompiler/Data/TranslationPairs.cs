using System.Text;

namespace GraphCompiler;

/// <summary>A German word or phrase and its English translation, both lowercase.</summary>
public sealed record TranslationPair(string German, string English);

/// <summary>What <see cref="TranslationPairs.Extract"/> read and kept.</summary>
/// <param name="EntriesRead">Index entries read (dictd's own <c>00-database-*</c> entries excluded).</param>
/// <param name="Parsed">Entries with a headword and a translation line.</param>
/// <param name="Usable">Parsed pairs that passed the alphabet and length filters, before removing repeated German words.</param>
/// <param name="Pairs">The pairs kept: the first usable pair of each German word, in index order.</param>
public sealed record TranslationExtraction(int EntriesRead, int Parsed, int Usable, IReadOnlyList<TranslationPair> Pairs);

/// <summary>A deterministic train / held-out split of translation pairs.</summary>
public sealed record TranslationSplit(IReadOnlyList<TranslationPair> Train, IReadOnlyList<TranslationPair> HeldOut)
{
    /// <summary>The training file's name in a data folder.</summary>
    public const string TrainFileName = "train.tsv";

    /// <summary>The held-out file's name in a data folder.</summary>
    public const string HeldOutFileName = "heldout.tsv";

    /// <summary>Writes <see cref="TrainFileName"/> and <see cref="HeldOutFileName"/> into <paramref name="directory"/>.</summary>
    public void WriteTsv(string directory)
    {
        Directory.CreateDirectory(directory);
        TranslationPairs.WriteTsv(Path.Combine(directory, TrainFileName), Train);
        TranslationPairs.WriteTsv(Path.Combine(directory, HeldOutFileName), HeldOut);
    }

    /// <summary>Reads the two files that <see cref="WriteTsv"/> wrote.</summary>
    public static TranslationSplit ReadTsv(string directory) =>
        new(TranslationPairs.ReadTsv(Path.Combine(directory, TrainFileName)),
            TranslationPairs.ReadTsv(Path.Combine(directory, HeldOutFileName)));
}

/// <summary>
/// Word and phrase pairs for a character-level German-to-English model, taken from a FreeDict dictionary
/// (<see cref="FreedictData"/>), and their fixed-length encoding.
/// </summary>
/// <remarks>
/// <para>An entry of <c>freedict-deu-eng</c> looks like this (pronunciation between slashes, grammar between angle
/// brackets, subject labels between square brackets; then notes, examples, synonyms and cross-references):</para>
/// <code>
/// Bakterienvakzine /baktˈeːrɪənvaktsˈiːnə/ &lt;fem, n, sg&gt;
///  [med.] bacterial vaccine &lt;n&gt;, bacterin &lt;n&gt;
///    Synonyms: {bakterieller Impfstoff}, {Bakterienimpfstoff}
/// </code>
/// <para>German is the first line up to the pronunciation, English the first translation of the second line (up to
/// its first comma or grammar annotation); bracketed and parenthesised parts are removed, whitespace is collapsed,
/// both sides are lowercased. A pair is kept when both sides consist of <see cref="CharVocabulary.Characters"/>
/// only and have 1 to <see cref="MaxCharacters"/> characters; of several pairs with the same German side, the first
/// in index order is kept (one target per source).</para>
/// </remarks>
public static class TranslationPairs
{
    /// <summary>Tokens per encoded sequence: up to <see cref="MaxCharacters"/> characters plus EOS (or BOS).</summary>
    public const int MaxLength = 20;

    /// <summary>Characters per side at most.</summary>
    public const int MaxCharacters = MaxLength - 1;

    /// <summary>The seed of the train / held-out split.</summary>
    public const ulong SplitSeed = 20220421;

    /// <summary>Held-out share: one pair in <see cref="HeldOutDivisor"/> (5%), rounded down.</summary>
    public const int HeldOutDivisor = 20;

    /// <summary>Held-out pairs at most.</summary>
    public const int MaxHeldOut = 2000;

    /// <summary>Reads every entry of <paramref name="dictionary"/> and keeps the usable pairs (see the remarks).</summary>
    public static TranslationExtraction Extract(DictdDictionary dictionary)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new List<TranslationPair>();
        int read = 0, parsed = 0, usable = 0;
        foreach (DictdIndexEntry entry in dictionary.Entries)
        {
            if (entry.Headword.StartsWith("00database", StringComparison.Ordinal) ||
                entry.Headword.StartsWith("00-database", StringComparison.Ordinal))
            {
                continue;
            }

            read++;
            if (ParseEntry(dictionary.ReadEntry(entry)) is not { } pair)
            {
                continue;
            }

            parsed++;
            if (!IsUsable(pair))
            {
                continue;
            }

            usable++;
            if (seen.Add(pair.German))
            {
                pairs.Add(pair);
            }
        }

        return new TranslationExtraction(read, parsed, usable, pairs);
    }

    /// <summary>
    /// The pair of one entry's text (see the remarks of <see cref="TranslationPairs"/>), before filtering; null when
    /// the entry has no headword or no translation line.
    /// </summary>
    public static TranslationPair? ParseEntry(string entryText)
    {
        string[] lines = entryText.Split('\n');
        if (lines.Length < 2)
        {
            return null;
        }

        string head = lines[0];
        int pronunciation = head.IndexOf(" /", StringComparison.Ordinal);
        if (pronunciation >= 0)
        {
            head = head[..pronunciation];
        }

        string german = Clean(RemoveGroups(head));
        string translation = lines[1].TrimStart();
        if (german.Length == 0 || translation.Length == 0 || translation.StartsWith('"') ||
            translation.StartsWith("Note:", StringComparison.Ordinal) ||
            translation.StartsWith("Synonym", StringComparison.Ordinal) ||
            translation.StartsWith("see:", StringComparison.Ordinal))
        {
            return null;
        }

        // Subject labels first (they may hold commas), then the first translation: up to its grammar annotation
        // (an abbreviation may follow that directly, as in "chairman <n>chm.") or the first comma outside parentheses.
        translation = RemoveGroups(translation, '[', ']');
        int annotation = translation.IndexOf('<');
        if (annotation >= 0)
        {
            translation = translation[..annotation];
        }

        translation = FirstAlternative(translation);
        string english = Clean(StripNumbering(RemoveGroups(translation)));
        return english.Length == 0 ? null : new TranslationPair(german, english);
    }

    /// <summary>Whether both sides have 1 to <see cref="MaxCharacters"/> characters, all in the vocabulary.</summary>
    public static bool IsUsable(TranslationPair pair) => IsUsable(pair.German) && IsUsable(pair.English);

    /// <summary>Whether <paramref name="side"/> has 1 to <see cref="MaxCharacters"/> characters, all in the vocabulary.</summary>
    public static bool IsUsable(string side) =>
        side.Length is > 0 and <= MaxCharacters && CharVocabulary.ContainsAll(side);

    /// <summary>
    /// Splits <paramref name="pairs"/>: <see cref="SplitMix64.Permutation"/>(count, seed) shuffles the indices, the
    /// first min(count / 20, 2000) of them are held out, the rest train. Each part keeps the input order.
    /// </summary>
    public static TranslationSplit Split(IReadOnlyList<TranslationPair> pairs, ulong seed = SplitSeed)
    {
        int heldOutCount = Math.Min(MaxHeldOut, pairs.Count / HeldOutDivisor);
        int[] order = SplitMix64.Permutation(pairs.Count, seed);
        var heldOut = new bool[pairs.Count];
        for (int i = 0; i < heldOutCount; i++)
        {
            heldOut[order[i]] = true;
        }

        var train = new List<TranslationPair>(pairs.Count - heldOutCount);
        var held = new List<TranslationPair>(heldOutCount);
        for (int i = 0; i < pairs.Count; i++)
        {
            (heldOut[i] ? held : train).Add(pairs[i]);
        }

        return new TranslationSplit(train, held);
    }

    /// <summary>
    /// The order of the <paramref name="count"/> training pairs in epoch <paramref name="epoch"/>:
    /// <see cref="SplitMix64.Permutation"/>(count, s) where s is output number <paramref name="epoch"/> (0-based) of
    /// a <see cref="SplitMix64"/> seeded with <paramref name="seed"/>. Batch b of the epoch is items
    /// [b * batch, (b + 1) * batch) of this order; an incomplete last batch is skipped.
    /// </summary>
    public static int[] BatchOrder(int count, int epoch, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ulong epochSeed = SplitMix64.Mix(unchecked(seed + SplitMix64.Gamma * ((ulong)epoch + 1)));
        return SplitMix64.Permutation(count, epochSeed);
    }

    /// <summary>
    /// Encodes one pair into three sequences of <see cref="MaxLength"/> tokens: the encoder input (characters, EOS,
    /// PAD...), the decoder input (BOS, characters, PAD...) and the decoder target (characters, EOS, PAD...).
    /// </summary>
    public static void Encode(TranslationPair pair, Span<int> source, Span<int> decoderInput, Span<int> decoderTarget)
    {
        if (source.Length != MaxLength || decoderInput.Length != MaxLength || decoderTarget.Length != MaxLength)
        {
            throw new ArgumentException($"Each sequence takes exactly {MaxLength} tokens.");
        }

        if (!IsUsable(pair))
        {
            throw new ArgumentException($"'{pair.German}' / '{pair.English}' is not 1 to {MaxCharacters} vocabulary characters per side.", nameof(pair));
        }

        EncodeWithEos(pair.German, source);
        EncodeWithEos(pair.English, decoderTarget);
        decoderInput.Clear();
        decoderInput[0] = CharVocabulary.Bos;
        for (int i = 0; i < pair.English.Length; i++)
        {
            decoderInput[i + 1] = CharVocabulary.Encode(pair.English[i]);
        }
    }

    /// <summary>Encodes a German word or phrase as an encoder input (characters, EOS, PAD...).</summary>
    public static void EncodeSource(string german, Span<int> source)
    {
        if (source.Length != MaxLength || !IsUsable(german))
        {
            throw new ArgumentException($"'{german}' is not 1 to {MaxCharacters} vocabulary characters, or the span is not {MaxLength} long.");
        }

        EncodeWithEos(german, source);
    }

    /// <summary>Writes <c>german&lt;TAB&gt;english</c> lines (UTF-8, no byte order mark, '\n' line ends).</summary>
    public static void WriteTsv(string path, IEnumerable<TranslationPair> pairs)
    {
        var text = new StringBuilder();
        foreach (TranslationPair pair in pairs)
        {
            if (!IsUsable(pair))
            {
                throw new ArgumentException($"'{pair.German}' / '{pair.English}' is not a usable pair.", nameof(pairs));
            }

            text.Append(pair.German).Append('\t').Append(pair.English).Append('\n');
        }

        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Reads what <see cref="WriteTsv"/> wrote, checking every line.</summary>
    /// <exception cref="InvalidDataException">A line without exactly one tab, or a side that is not usable; the message names the file and line.</exception>
    public static IReadOnlyList<TranslationPair> ReadTsv(string path)
    {
        var pairs = new List<TranslationPair>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            string[] fields = line.Split('\t');
            if (fields.Length != 2)
            {
                throw new InvalidDataException($"'{path}', line {lineNumber}: expected 'german<TAB>english', found {fields.Length} field(s).");
            }

            var pair = new TranslationPair(fields[0], fields[1]);
            if (!IsUsable(pair))
            {
                throw new InvalidDataException(
                    $"'{path}', line {lineNumber}: each side must be 1 to {MaxCharacters} characters of \"{CharVocabulary.Characters}\".");
            }

            pairs.Add(pair);
        }

        return pairs;
    }

    private static void EncodeWithEos(string text, Span<int> tokens)
    {
        tokens.Clear();
        for (int i = 0; i < text.Length; i++)
        {
            tokens[i] = CharVocabulary.Encode(text[i]);
        }

        tokens[text.Length] = CharVocabulary.Eos;
    }

    /// <summary>Removes (...), &lt;...&gt;, [...] and {...} groups, nested or not; an unclosed group runs to the end.</summary>
    private static string RemoveGroups(string text) => RemoveGroups(RemoveGroups(RemoveGroups(RemoveGroups(text, '(', ')'), '<', '>'), '[', ']'), '{', '}');

    private static string RemoveGroups(string text, char open, char close)
    {
        if (!text.Contains(open, StringComparison.Ordinal))
        {
            return text;
        }

        var kept = new StringBuilder(text.Length);
        int depth = 0;
        foreach (char c in text)
        {
            if (c == open)
            {
                depth++;
                kept.Append(' ');
            }
            else if (c == close && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                kept.Append(c);
            }
        }

        return kept.ToString();
    }

    /// <summary>The text up to the first comma outside parentheses.</summary>
    private static string FirstAlternative(string text)
    {
        int depth = 0;
        for (int i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')' when depth > 0:
                    depth--;
                    break;
                case ',' when depth == 0:
                    return text[..i];
            }
        }

        return text;
    }

    /// <summary>Drops a leading sense number followed by a space, such as "1. " or "2) ".</summary>
    private static string StripNumbering(string text)
    {
        string trimmed = text.TrimStart();
        int digits = 0;
        while (digits < trimmed.Length && char.IsAsciiDigit(trimmed[digits]))
        {
            digits++;
        }

        bool numbered = digits > 0 && digits + 1 < trimmed.Length && trimmed[digits] is '.' or ')' && trimmed[digits + 1] == ' ';
        return numbered ? trimmed[(digits + 2)..] : text;
    }

    /// <summary>Collapses runs of whitespace to one space, trims, and lowercases.</summary>
    private static string Clean(string text)
    {
        var clean = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                if (clean.Length > 0 && clean[^1] != ' ')
                {
                    clean.Append(' ');
                }
            }
            else
            {
                clean.Append(char.ToLowerInvariant(c));
            }
        }

        return clean.ToString().TrimEnd();
    }
}
