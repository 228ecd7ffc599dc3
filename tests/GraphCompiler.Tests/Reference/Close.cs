using System.Globalization;
using System.Text;

namespace GraphCompiler.Tests.Reference;

/// <summary>
/// Elementwise closeness with numpy's rule, <c>|actual - expected| &lt;= atol + rtol * |expected|</c>.
/// On failure the message names the first and the worst mismatching index with both values, which is
/// what one needs to tell an off-by-one (first index) from an accuracy problem (worst index).
/// </summary>
public static class Close
{
    public static void Assert(
        ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol, string? what = null)
    {
        string label = what is null ? "" : what + ": ";
        if (expected.Length != actual.Length)
            Xunit.Assert.Fail($"{label}length differs: expected {expected.Length}, actual {actual.Length}");

        int mismatches = 0, first = -1, worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Excess(expected[i], actual[i], rtol, atol);
            if (excess <= 1.0) continue;
            mismatches++;
            if (first < 0) first = i;
            if (worst < 0 || excess > worstExcess)
            {
                worst = i;
                worstExcess = excess;
            }
        }
        if (mismatches == 0) return;

        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{label}{mismatches} of {expected.Length} elements differ")
            .Append(CultureInfo.InvariantCulture, $" (rtol {rtol:G3}, atol {atol:G3})").AppendLine()
            .AppendLine(Describe("first", first, expected[first], actual[first]))
            .Append(Describe("worst", worst, expected[worst], actual[worst]));
        Xunit.Assert.Fail(message.ToString());
    }

    /// <summary>How far outside the tolerance a pair is: at most 1 passes; infinity for NaN or a wrong infinity.</summary>
    private static double Excess(float expected, float actual, double rtol, double atol)
    {
        if (float.IsNaN(expected) || float.IsNaN(actual))
            return float.IsNaN(expected) && float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        if (float.IsInfinity(expected) || float.IsInfinity(actual))
            return expected == actual ? 0 : double.PositiveInfinity;
        double diff = Math.Abs((double)actual - expected);
        double allowed = atol + rtol * Math.Abs((double)expected);
        if (diff == 0) return 0;
        return allowed == 0 ? double.PositiveInfinity : diff / allowed;
    }

    private static string Describe(string which, int index, float expected, float actual) =>
        string.Create(CultureInfo.InvariantCulture,
            $"  {which} at [{index}]: expected {expected:R}, actual {actual:R}, |diff| {Math.Abs((double)actual - expected):G4}");
}
