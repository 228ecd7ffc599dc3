using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Golden;

/// <summary>
/// The double-precision LSTM and GRU reference (which the finite-difference gradient tests and the ONNX export
/// tests trust) against PyTorch: each recurrent golden case's output, recomputed from the file's parameters and
/// input, agrees with the stored output far inside the generated code's tolerance.
/// </summary>
public class RecurrentReferenceTests
{
    private static string[] GoldenNames => RecurrentReference.Models.Keys.Where(n => File.Exists(PathOf(n))).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string> Golden => new(GoldenNames);

    private static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", "data", name + ".safetensors");

    [Fact]
    public void Every_recurrent_golden_case_has_a_reference() =>
        Assert.Equal(RecurrentReference.Models.Keys.Where(n => !RecurrentReference.WithoutGolden.Contains(n)).Order(StringComparer.Ordinal), GoldenNames);

    [Theory]
    [MemberData(nameof(Golden))]
    public void Reference_matches_PyTorch(string name)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(PathOf(name));
        int batch = checked((int)file["input"].Shape[0]);
        double[] Read(string tensor) => file.ReadAsFloat(tensor).Select(v => (double)v).ToArray();
        double[] y = RecurrentReference.Models[name](Read("input"), Read, batch);
        Close.Assert(file.ReadAsFloat("output"), y.Select(v => (float)v).ToArray(), 1e-6, 1e-7, name + " reference output");
    }
}
