using System.Globalization;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>Comparisons of engine outputs.</summary>
public static class Check
{
    /// <summary>Largest absolute difference two engines' CNN outputs may show.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Largest absolute element-wise difference.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Lengths differ: {a.Length} and {b.Length}.");
        }

        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (!(d <= max))
            {
                max = double.IsNaN(d) ? double.PositiveInfinity : d; // NaN anywhere fails the check
            }
        }

        return max;
    }

    /// <summary>Throws when the two outputs differ by more than <paramref name="tolerance"/>; returns the difference.</summary>
    public static double Agree(string nameA, ReadOnlySpan<float> a, string nameB, ReadOnlySpan<float> b, double tolerance)
    {
        double diff = MaxAbsDiff(a, b);
        if (!(diff <= tolerance))
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"{nameA} and {nameB} disagree: max abs diff {diff:E3} > {tolerance:E0} over {a.Length} values."));
        }

        return diff;
    }
}
