using D = GraphCompiler.Tests.Reference.DoubleReference;

namespace GraphCompiler.Tests.Reference;

/// <summary>
/// The forward passes of the recurrent models of tests/GraphCompiler.Tests/Models/RecurrentModels.cs in double
/// precision, from their parameters by name: the reference of the finite-difference gradient tests, itself
/// checked against PyTorch's golden outputs.
/// </summary>
public static class RecurrentReference
{
    public delegate double[] Forward(double[] x, Func<string, double[]> p, int batch);

    /// <summary>Each model's reference forward, by the model's (and golden case's) name.</summary>
    public static readonly IReadOnlyDictionary<string, Forward> Models = new Dictionary<string, Forward>
    {
        ["LstmClassifier"] = LstmClassifier,
        ["LstmFinalStates"] = LstmFinalStates,
        ["LstmInitialStates"] = LstmInitialStates,
        ["GruClassifier"] = GruClassifier,
        ["GruInitialState"] = GruInitialState,
        ["LstmDeepNoBias"] = LstmDeepNoBias,
        ["GruSequenceNoBias"] = GruSequenceNoBias,
        ["SeedRnn"] = SeedRnn,
        ["SeedGru"] = SeedGru,
        ["LstmStackInitialStates"] = LstmStackInitialStates,
        ["GruStackNoBias"] = GruStackNoBias,
        ["LstmWideOneLayer"] = LstmWideOneLayer,
    };

    /// <summary>The models without a PyTorch golden case: the seed-size ones and the batch-1 pipeline ones.</summary>
    public static readonly IReadOnlySet<string> WithoutGolden = new HashSet<string>
    {
        "SeedRnn", "SeedGru", "LstmStackInitialStates", "GruStackNoBias", "LstmWideOneLayer",
    };

    public static double[] LstmClassifier(double[] x, Func<string, double[]> p, int b)
    {
        var (output, _, _) = D.Lstm(x, b, 6, 5, 12, 2, bias: true, "lstm", p);
        return D.Linear(D.Select(output, b, 6, 12, 5), b, 12, p("fc.weight"), 4, p("fc.bias"));
    }

    public static double[] LstmFinalStates(double[] x, Func<string, double[]> p, int b)
    {
        var (output, hn, cn) = D.Lstm(x, b, 5, 7, 16, 1, bias: true, "lstm", p);
        return D.Add(
            D.Linear(D.Add(hn, cn), b, 16, p("fc.weight"), 3, p("fc.bias")),
            D.Linear(D.Select(output, b, 5, 16, 1), b, 16, p("head.weight"), 3, p("head.bias")));
    }

    public static double[] LstmInitialStates(double[] x, Func<string, double[]> p, int b)
    {
        double[] h0 = D.Tanh(D.Linear(x, b, 20, p("hinit.weight"), 20, p("hinit.bias")));
        double[] c0 = D.Linear(x, b, 20, p("cinit.weight"), 20, p("cinit.bias"));
        var (output, _, cn) = D.Lstm(x, b, 5, 4, 10, 2, bias: true, "lstm", p, h0, c0);
        return D.Add(
            D.Linear(cn, b, 20, p("fc.weight"), 6, p("fc.bias")),
            D.Linear(D.Select(output, b, 5, 10, 4), b, 10, p("head.weight"), 6, p("head.bias")));
    }

    public static double[] GruClassifier(double[] x, Func<string, double[]> p, int b)
    {
        var (output, _) = D.Gru(x, b, 6, 5, 12, 2, bias: true, "gru", p);
        return D.Linear(D.Select(output, b, 6, 12, 5), b, 12, p("fc.weight"), 4, p("fc.bias"));
    }

    public static double[] GruInitialState(double[] x, Func<string, double[]> p, int b)
    {
        double[] h0 = D.Tanh(D.Linear(x, b, 12, p("init.weight"), 18, p("init.bias")));
        var (output, hn) = D.Gru(x, b, 4, 3, 9, 2, bias: true, "gru", p, h0);
        return D.Add(
            D.Linear(hn, b, 18, p("fc.weight"), 5, p("fc.bias")),
            D.Linear(D.Select(output, b, 4, 9, 0), b, 9, p("head.weight"), 5, p("head.bias")));
    }

    public static double[] LstmDeepNoBias(double[] x, Func<string, double[]> p, int b) =>
        D.Lstm(x, b, 4, 3, 8, 3, bias: false, "lstm", p).H;

    public static double[] GruSequenceNoBias(double[] x, Func<string, double[]> p, int b) =>
        D.Gru(x, b, 3, 6, 20, 1, bias: false, "gru", p).Output;

    public static double[] SeedRnn(double[] x, Func<string, double[]> p, int b)
    {
        var (output, _, _) = D.Lstm(x, b, 28, 28, 128, 2, bias: true, "lstm", p);
        return D.Linear(D.Select(output, b, 28, 128, 27), b, 128, p("fc.weight"), 10, p("fc.bias"));
    }

    public static double[] SeedGru(double[] x, Func<string, double[]> p, int b)
    {
        var (output, _) = D.Gru(x, b, 28, 28, 128, 2, bias: true, "gru", p);
        return D.Linear(D.Select(output, b, 28, 128, 27), b, 128, p("fc.weight"), 10, p("fc.bias"));
    }

    public static double[] LstmStackInitialStates(double[] x, Func<string, double[]> p, int b)
    {
        double[] h0 = D.Tanh(D.Linear(x, b, 54, p("hinit.weight"), 144, p("hinit.bias")));
        double[] c0 = D.Linear(x, b, 54, p("cinit.weight"), 144, p("cinit.bias"));
        var (output, _, cn) = D.Lstm(x, b, 9, 6, 48, 3, bias: true, "lstm", p, h0, c0);
        return D.Add(
            D.Linear(cn, b, 144, p("fc.weight"), 5, p("fc.bias")),
            D.Linear(D.Select(output, b, 9, 48, 8), b, 48, p("head.weight"), 5, p("head.bias")));
    }

    public static double[] GruStackNoBias(double[] x, Func<string, double[]> p, int b)
    {
        double[] h0 = D.Tanh(D.Linear(x, b, 15, p("init.weight"), 288, p("init.bias")));
        return D.Gru(x, b, 3, 5, 96, 3, bias: false, "gru", p, h0).H;
    }

    public static double[] LstmWideOneLayer(double[] x, Func<string, double[]> p, int b) =>
        D.Lstm(x, b, 6, 3, 64, 1, bias: true, "lstm", p).Output;
}
