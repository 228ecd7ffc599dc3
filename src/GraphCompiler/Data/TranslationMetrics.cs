namespace GraphCompiler;

/// <summary>Scores of predicted translations against references.</summary>
public static class TranslationMetrics
{
    /// <summary>The fraction of predictions equal to their reference (ordinal comparison); 0 for no pairs.</summary>
    public static double ExactMatch(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        CheckLengths(predictions, references);
        if (references.Count == 0)
        {
            return 0;
        }

        int equal = 0;
        for (int i = 0; i < references.Count; i++)
        {
            equal += string.Equals(predictions[i], references[i], StringComparison.Ordinal) ? 1 : 0;
        }

        return (double)equal / references.Count;
    }

    /// <summary>
    /// Character error rate: Levenshtein distances (insertions, deletions and substitutions of one character each)
    /// summed over all pairs, divided by the total number of reference characters. 0 is perfect; it can exceed 1
    /// when predictions are longer than their references. 0 for no reference characters.
    /// </summary>
    public static double CharacterErrorRate(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        CheckLengths(predictions, references);
        long distance = 0, characters = 0;
        for (int i = 0; i < references.Count; i++)
        {
            distance += Levenshtein(predictions[i], references[i]);
            characters += references[i].Length;
        }

        return characters == 0 ? 0 : (double)distance / characters;
    }

    /// <summary>The edit distance between two strings: the fewest single-character insertions, deletions and substitutions.</summary>
    public static int Levenshtein(string a, string b)
    {
        // One row of the dynamic-programming table: row[j] = distance(a[..i], b[..j]).
        int[] row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                int substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
                row[j] = Math.Min(substitute, Math.Min(above + 1, row[j - 1] + 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    private static void CheckLengths(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        if (predictions.Count != references.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions for {references.Count} references.", nameof(predictions));
        }
    }
}
