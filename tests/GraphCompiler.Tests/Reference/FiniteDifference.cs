namespace GraphCompiler.Tests.Reference;

/// <summary>Central differences of a double-precision loss, for gradient checks.</summary>
public static class FiniteDifference
{
    /// <summary>
    /// (loss(v + eps) - loss(v - eps)) / 2 eps at <c>values[index]</c>, which is restored afterwards. The
    /// default step is small enough that ReLU kinks and pool maxima are rarely crossed.
    /// </summary>
    public static double Central(double[] values, int index, Func<double> loss, double eps = 1e-6)
    {
        double saved = values[index];
        values[index] = saved + eps;
        double plus = loss();
        values[index] = saved - eps;
        double minus = loss();
        values[index] = saved;
        return (plus - minus) / (2 * eps);
    }
}
