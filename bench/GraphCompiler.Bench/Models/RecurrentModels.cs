using GraphCompiler.Bench.Onnx;
using GraphCompiler.Onnx;
using Google.Protobuf;
using GraphCompiler.Bench.Rnn;
using GraphCompiler.Bench.Suites;

namespace GraphCompiler.Bench.Models;

/// <summary>A generated recurrent model (<see cref="SeedRnn"/>, <see cref="SeedGru"/>) for the generic suites and the peers.</summary>
public abstract class RecurrentModel<TModel>(SeedRecurrent spec) : SuiteModel<TModel>
    where TModel : class, ICompiledModel
{
    public SeedRecurrent Spec { get; } = spec;

    public override string Key => Spec.Layer;

    public override string Title => Spec.Title;

    public override int InputLength => SeedRecurrent.InputSize;

    public override int OutputLength => SeedRecurrent.OutputSize;

    public override long[] OnnxInputShape(int batch) => [batch, SeedRecurrent.Steps, SeedRecurrent.Features];

    public override IReadOnlyList<(string Name, int[] Shape)> ParameterShapes => Spec.Parameters;

    public override double FlopsPerSample => Spec.FlopsPerSample;

    public override double TrainingFlopsPerSample => Spec.TrainingFlopsPerSample;

    public override string FlopsBreakdown => Spec.FlopsBreakdown;

    public override string TrainingFlopsBreakdown => Spec.TrainingFlopsBreakdown;

    public override double? StreamedBytesPerCall => Spec.StreamedBytesPerCall;

    public override string? StreamedBytesBreakdown => Spec.StreamedBytesBreakdown;

    public override double? InputProjectionFlopsPerCall => Spec.InputProjectionFlopsPerSample;

    /// <summary>The generated class's graph description, which the project's exporter writes.</summary>
    public abstract GraphDescription Graph { get; }

    public override (string Input, string Output) OnnxNames => (Graph.Input, Graph.Output);

    /// <summary>The project's export: <see cref="OnnxExport"/> of the generated graph and these parameters.</summary>
    public override byte[] ToOnnx(ParameterSet parameters) => OnnxExport.ToModel(Graph, parameters, Key).ToByteArray();

    /// <summary>PyTorch's export of the same weights (<c>torch.onnx.export</c>; input "input", output "output"): a cross-check.</summary>
    public byte[] ToTorchOnnx(ParameterSet parameters) => TorchOnnxExport.ToBytes(Key, ParameterShapes, ReadParameters(parameters));

    /// <summary>
    /// For <c>--verify</c>: the generated model (seeded) against the double-precision reference and against ONNX
    /// Runtime on the project's export and on PyTorch's, for each batch; prints the differences and the managed
    /// bytes a call allocates. Returns the largest difference.
    /// </summary>
    public double Verify(IReadOnlyList<int> batches)
    {
        TModel model = Create(batches.Max());
        CheckContract(model);
        Dictionary<string, float[]> parameters = ReadParameters(model.Parameters);
        byte[] onnx = ToOnnx(model.Parameters), torchOnnx = ToTorchOnnx(model.Parameters);
        double worst = 0;
        foreach (int batch in batches)
        {
            float[] input = Cnn.SeedCnn.RandomInput(batch, seed: batch);
            float[] output = new float[batch * OutputLength];
            model.Forward(input, output);
            double vsReference = Infrastructure.Check.MaxAbsDiff(output, Reference.RecurrentReference.Forward(Spec, parameters, input));
            double vsOrt = Infrastructure.Check.MaxAbsDiff(output, RunOrt(onnx, input, batch, names: null));
            double vsTorchExport = Infrastructure.Check.MaxAbsDiff(output, RunOrt(torchOnnx, input, batch, ("input", "output")));
            worst = Math.Max(worst, Math.Max(vsReference, Math.Max(vsOrt, vsTorchExport)));
            long bytes = Infrastructure.Allocations.PerCall(() => model.Forward(input, output), calls: 20);
            Console.WriteLine(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"  GraphCompiler {Key,-4} batch {batch,2}  vs reference {vsReference:E3}  vs ORT {vsOrt:E3} (PyTorch's export {vsTorchExport:E3})  managed bytes/call {bytes}"));
        }

        return worst;
    }

    private float[] RunOrt(byte[] onnx, float[] input, int batch, (string Input, string Output)? names)
    {
        using Runners.OrtRunner ort = CreateOrt(onnx, batch, intraOpThreads: 1, names);
        input.CopyTo(ort.Input, 0);
        ort.Run();
        return ort.Output.ToArray();
    }

    public override string OnnxSource =>
        $"written by GraphCompiler.Onnx (`OnnxExport.ToModel` of the generated `Graph`): one ONNX {Spec.Cell} node per layer, " +
        "the gate blocks reordered by constant nodes; `--verify` also checks it against `torch.onnx.export` of the same weights";
}

/// <summary>The seed LSTM.</summary>
public sealed class LstmModel() : RecurrentModel<SeedRnn>(SeedRecurrent.Lstm)
{
    public static readonly LstmModel Instance = new();

    public override GraphDescription Graph => SeedRnn.Graph;

    public override SeedRnn Create(int maxBatch) => new(maxBatch, PeerSeeds.Weights);

    public override SeedRnn Create(ParameterSet parameters, int maxBatch) => new(parameters, maxBatch);
}

/// <summary>The GRU of the seed LSTM's shape.</summary>
public sealed class GruModel() : RecurrentModel<SeedGru>(SeedRecurrent.Gru)
{
    public static readonly GruModel Instance = new();

    public override GraphDescription Graph => SeedGru.Graph;

    public override SeedGru Create(int maxBatch) => new(maxBatch, PeerSeeds.Weights);

    public override SeedGru Create(ParameterSet parameters, int maxBatch) => new(parameters, maxBatch);
}
