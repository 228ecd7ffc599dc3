using BenchmarkDotNet.Attributes;
using GraphCompiler.Bench.Infrastructure;
using GraphCompiler.Bench.Models;
using GraphCompiler.Bench.Rnn;

namespace GraphCompiler.Bench.Suites;

/// <summary>The seed LSTM: generated code (one thread) against ONNX Runtime, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmInference : InferenceSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>A training step of the seed LSTM, one thread, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmTraining : TrainingSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>The seed LSTM at batch 64 on one core and on every core (DataParallel).</summary>
[MemoryDiagnoser]
[Config(typeof(LstmConfig))]
public class LstmAllCores : AllCoresSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>The GRU of the seed LSTM's shape: generated code (one thread) against ONNX Runtime, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruInference : InferenceSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

/// <summary>A training step of the GRU, one thread, batch 1 and 64.</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruTraining : TrainingSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

/// <summary>The GRU at batch 64 on one core and on every core (DataParallel).</summary>
[MemoryDiagnoser]
[Config(typeof(GruConfig))]
public class GruAllCores : AllCoresSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

internal sealed class LstmConfig() : ModelFlopsConfig(LstmModel.Instance);

internal sealed class GruConfig() : ModelFlopsConfig(GruModel.Instance);

/// <summary>
/// The batch-1 input projections of a stacked recurrent model, alone: layer 0's over every step, then each upper
/// layer's <see cref="Lag"/> steps at a time, the kernels and blocks <c>Forward</c> runs at batch 1 between the
/// steps of its wavefront (found by <see cref="GeneratedKernels"/>). The peers report shows how close they come to
/// the FMA peak, the least time they can take, which it subtracts from the whole call to time the recurrent steps.
/// </summary>
public abstract unsafe class RecurrentProjectionsSuite<TModel> : IRecurrentProjections
    where TModel : class, ICompiledModel
{
    /// <summary>Steps per block of an upper layer's projection at batch 1 (the generator's <c>RecurrentLayersPlan.Lag</c>).</summary>
    public const int Lag = 4;

    private static readonly Type[] RowsSignature = [typeof(float*), typeof(float*), typeof(int), typeof(int)];

    private TModel? _model; // owns the workspace the kernels write
    private GeneratedKernels? _kernels;
    private IntPtr _bottom;
    private IntPtr[] _upper = [];

    protected abstract SuiteModel<TModel> Model { get; }

    /// <summary>The same timer over <paramref name="model"/>, for the quick harness (the suites above name theirs).</summary>
    public static RecurrentProjectionsSuite<TModel> For(SuiteModel<TModel> model) => new Over(model);

    [GlobalSetup]
    public void Setup()
    {
        _model = Model.Create(1);
        _kernels = GeneratedKernels.Of(_model, Model.Input(1), new float[Model.OutputLength])
            ?? throw new InvalidOperationException($"the generated kernels of the {Model.Title} were not found");
        string stem = _kernels.Listed.Single(k => k.EndsWith("_Layers", StringComparison.Ordinal))[..^"_Layers".Length];
        _bottom = _kernels.Pointer(stem + "_L0_Input", GeneratedKernels.ForwardSignature);
        _upper = Enumerable.Range(1, SeedRecurrent.Layers - 1).Select(l => _kernels.Pointer($"{stem}_L{l}_InputRows", RowsSignature)).ToArray();
    }

    [Benchmark]
    public void InputProjections()
    {
        float* arena = _kernels!.Arena, packed = _kernels.Packed;
        ((delegate*<float*, float*, float*, int, void>)_bottom)(arena, _kernels.Parameters, packed, 1);
        foreach (IntPtr rows in _upper)
        {
            for (int t = 0; t < SeedRecurrent.Steps; t += Lag)
            {
                ((delegate*<float*, float*, int, int, void>)rows)(arena, packed, t, Math.Min(t + Lag, SeedRecurrent.Steps));
            }
        }
    }

    private sealed class Over(SuiteModel<TModel> model) : RecurrentProjectionsSuite<TModel>
    {
        protected override SuiteModel<TModel> Model => model;
    }
}

/// <summary>The seed LSTM's batch-1 input projections alone (<see cref="RecurrentProjectionsSuite{TModel}"/>).</summary>
public class LstmProjections : RecurrentProjectionsSuite<SeedRnn>
{
    protected override SuiteModel<SeedRnn> Model => LstmModel.Instance;
}

/// <summary>The GRU's batch-1 input projections alone (<see cref="RecurrentProjectionsSuite{TModel}"/>).</summary>
public class GruProjections : RecurrentProjectionsSuite<SeedGru>
{
    protected override SuiteModel<SeedGru> Model => GruModel.Instance;
}

/// <summary>A <see cref="RecurrentProjectionsSuite{TModel}"/> whatever its model, for the peers command (which checks it can run at this width).</summary>
public interface IRecurrentProjections
{
    void Setup();

    void InputProjections();
}
