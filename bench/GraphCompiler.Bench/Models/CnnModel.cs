using GraphCompiler.Bench.Cnn;
using GraphCompiler.Bench.Onnx;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Models;

/// <summary>The seed CNN (<see cref="MnistCnn"/>) for the generic suites and the peers.</summary>
public sealed class CnnModel : SuiteModel<MnistCnn>
{
    public static readonly CnnModel Instance = new();

    public override string Key => "cnn";

    public override string Title => "seed CNN";

    public override int InputLength => SeedCnn.InputSize;

    public override int OutputLength => SeedCnn.OutputSize;

    public override long[] OnnxInputShape(int batch) => [batch, SeedCnn.InChannels, SeedCnn.Height, SeedCnn.Width];

    public override IReadOnlyList<(string Name, int[] Shape)> ParameterShapes => SeedCnn.Parameters;

    public override double FlopsPerSample => SeedCnn.FlopsPerImage;

    public override double TrainingFlopsPerSample => SeedCnn.TrainingFlopsPerImage;

    public override string FlopsBreakdown => SeedCnn.FlopsBreakdown;

    public override string TrainingFlopsBreakdown => SeedCnn.TrainingFlopsBreakdown + "; about 2.95x the forward pass";

    public override byte[] ToOnnx(ParameterSet parameters) => CnnOnnx.ToBytes(ReadParameters(parameters));

    public override string OnnxSource => "built with GraphCompiler.Onnx's graph builder (`Onnx/CnnOnnx.cs`): the graph `torch.onnx.export` writes";

    public override MnistCnn Create(int maxBatch) => new(maxBatch, PeerSeeds.Weights);

    public override MnistCnn Create(ParameterSet parameters, int maxBatch) => new(parameters, maxBatch);
}
