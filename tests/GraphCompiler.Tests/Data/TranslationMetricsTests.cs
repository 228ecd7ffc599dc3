using Xunit;

namespace GraphCompiler.Tests.Data;

public class TranslationMetricsTests
{
    [Theory]
    [InlineData("", "", 0)]
    [InlineData("house", "house", 0)]
    [InlineData("", "house", 5)]
    [InlineData("house", "", 5)]
    [InlineData("kitten", "sitting", 3)] // k->s, e->i, +g
    [InlineData("flaw", "lawn", 2)]      // -f, +n
    [InlineData("straße", "strasse", 2)] // ß->s, +s
    [InlineData("ab", "ba", 2)]          // no transpositions in plain Levenshtein
    public void Levenshtein_distances(string a, string b, int distance)
    {
        Assert.Equal(distance, TranslationMetrics.Levenshtein(a, b));
        Assert.Equal(distance, TranslationMetrics.Levenshtein(b, a));
    }

    [Fact]
    public void Character_error_rate_sums_distances_over_reference_characters()
    {
        string[] references = ["house", "sitting", "dog"];  // 5 + 7 + 3 = 15 characters
        string[] predictions = ["house", "kitten", "dogs"]; // 0 + 3 + 1 = 4 edits
        Assert.Equal(4.0 / 15, TranslationMetrics.CharacterErrorRate(predictions, references), 12);
        Assert.Equal(1.0 / 3, TranslationMetrics.ExactMatch(predictions, references), 12);

        Assert.Equal(0, TranslationMetrics.CharacterErrorRate(references, references));
        Assert.Equal(1, TranslationMetrics.ExactMatch(references, references));
        Assert.Equal(3.0, TranslationMetrics.CharacterErrorRate(["abcdef"], ["xy"]), 12); // 2 substitutions + 4 deletions: above 1
        Assert.Equal(0, TranslationMetrics.ExactMatch(["House"], ["house"]));             // case counts
        Assert.Throws<ArgumentException>(() => TranslationMetrics.ExactMatch(["a"], ["a", "b"]));
    }
}
