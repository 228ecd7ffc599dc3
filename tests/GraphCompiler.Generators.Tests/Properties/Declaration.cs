using CsCheck;

namespace GraphCompiler.Generators.Tests.Properties;

public enum Act { None, Relu, Tanh, Sigmoid }

/// <summary>A twin layer with the same hyperparameters, combined element-wise with the layer: <c>a(x) + b(x)</c>.</summary>
public enum Join { None, Add, Mul }

public enum Head { None, Softmax, LogSoftmax, SoftmaxLastDim, LogSoftmaxDimOne }

/// <summary>What the forward method takes, and how it becomes what the layers read.</summary>
public enum InputForm
{
    /// <summary>[C, H, W], convolutions, a flatten, linear layers.</summary>
    Image,
    /// <summary>[C * H * W], reshaped to [C, H, W], then as <see cref="Image"/>.</summary>
    FlatToImage,
    /// <summary>[F], linear layers only.</summary>
    Flat,
    /// <summary>[T, F], an LSTM or GRU, a readout, linear layers.</summary>
    Sequence,
    /// <summary>[T * F], reshaped to [T, F], then as <see cref="Sequence"/>.</summary>
    FlatToSequence,
}

/// <summary>How the recurrent layer's result becomes the features of the first linear layer.</summary>
public enum Readout
{
    /// <summary><c>output[.., ^1]</c>.</summary>
    Last,
    /// <summary><c>output[.., i]</c>, i from -T to T - 1.</summary>
    Index,
    /// <summary><c>output[.., ^k]</c>.</summary>
    FromEnd,
    /// <summary><c>output[.., i, ..]</c>.</summary>
    IndexRest,
    /// <summary><c>Select(output, 1, i)</c>.</summary>
    SelectCall,
    /// <summary><c>rnn(x).Output[.., i]</c>, no deconstruction.</summary>
    OutputMember,
    /// <summary><c>Flatten(output)</c>: T x H features.</summary>
    FlattenOutput,
    /// <summary><c>Flatten(hn)</c>: layers x H features.</summary>
    FlattenH,
    /// <summary><c>Flatten(hn + cn)</c> of an LSTM (h_n alone for a GRU).</summary>
    HPlusC,
}

public enum InitialState { Zeros, FromInput, Null }

/// <summary>nn.Conv2d, an activation, an optional twin, and an optional pool after it (0 none, 1 max, 2 average).</summary>
public sealed record ConvBlock(
    int Out, int Kernel, int Stride, int Padding, int Dilation, bool Bias, bool PositionalKernel, Act Act, Join Join,
    int Pool, int PoolKernel, int PoolStride, int PoolPadding);

/// <summary>nn.Linear, an activation and an optional twin.</summary>
public sealed record DenseLayer(int Out, bool Bias, Act Act, Join Join);

/// <summary>nn.LSTM or nn.GRU with its call and readout; <see cref="IndexSeed"/> picks the step an index readout reads.</summary>
public sealed record RecurrentLayer(
    bool Lstm, int Hidden, int Layers, bool Bias, bool PositionalLayers, bool WriteBatchFirst, bool Discards,
    InitialState Init, Readout Readout, int IndexSeed);

/// <summary>
/// A random model declaration, drawn without regard to shapes: <see cref="ResolvedModel.Resolve"/> makes it consistent
/// (a kernel that does not fit becomes 1, a pool that does not fit is dropped, every in-size is what arrives).
/// </summary>
public sealed record Declaration(
    InputForm Form, int Channels, int Height, int Width, int Steps, int Features,
    ConvBlock[] Convs, bool FlattenByReshape, RecurrentLayer Recurrent, DenseLayer[] Dense, Head Head);

/// <summary>The kinds of mistake an invalid declaration carries, one each.</summary>
public enum MutationKind
{
    LinearInFeatures,
    ConvInChannels,
    RecurrentInputSize,
    NonConstantArgument,
    UnknownCall,
    UnknownVariable,
    UnsupportedStatement,
    InvalidHyperparameter,
    IndexOutOfRange,
    ReshapeSize,
    MissingShape,
    LinearOnImage,
}

/// <summary>One mistake; <see cref="Target"/> picks the site and the wrong value among those the model has.</summary>
public sealed record Mutation(MutationKind Kind, int Target);

/// <summary>The CsCheck generators of declarations and mutations.</summary>
public static class DeclarationGen
{
    private static readonly Gen<Act> Activation = Gen.Int[0, 3].Select(i => (Act)i);

    private static readonly Gen<Join> Twin = Gen.Int[0, 5].Select(i => i < 4 ? Join.None : (Join)(i - 3));

    public static readonly Gen<ConvBlock> Conv = Gen.Select(
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 3], Gen.Int[1, 2], Gen.Int[0, 2], Gen.Int[1, 2], Gen.Int[0, 3], Gen.Bool),
        Gen.Select(Activation, Twin, Gen.Int[0, 2], Gen.Int[1, 3], Gen.Int[0, 2], Gen.Int[0, 1]),
        (c, p) => new ConvBlock(c.Item1, c.Item2, c.Item3, c.Item4, c.Item5, c.Item6 != 0, c.Item7,
            p.Item1, p.Item2, p.Item3, p.Item4, p.Item5, p.Item6));

    public static readonly Gen<DenseLayer> Dense = Gen.Select(Gen.Int[1, 16], Gen.Int[0, 3], Activation, Twin,
        (o, b, a, j) => new DenseLayer(o, b != 0, a, j));

    public static readonly Gen<RecurrentLayer> Recurrent = Gen.Select(
        Gen.Select(Gen.Bool, Gen.Int[1, 20], Gen.Int[1, 3], Gen.Int[0, 3], Gen.Bool, Gen.Bool, Gen.Bool),
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 8], Gen.Int[0, 1000]),
        (r, c) => new RecurrentLayer(r.Item1, r.Item2, r.Item3, r.Item4 != 0, r.Item5, r.Item6, r.Item7,
            (InitialState)c.Item1, (Readout)c.Item2, c.Item3));

    public static readonly Gen<Declaration> Model =
        from form in Gen.Int[0, 4]
        from image in Gen.Select(Gen.Int[1, 4], Gen.Int[3, 12], Gen.Int[3, 12])
        from sequence in Gen.Select(Gen.Int[1, 6], Gen.Int[1, 10])
        from convs in Conv.Array[1, 3]
        from byReshape in Gen.Bool
        from recurrent in Recurrent
        from dense in Dense.Array[1, 3]
        from head in Gen.Int[0, 4]
        select new Declaration((InputForm)form, image.Item1, image.Item2, image.Item3, sequence.Item1, sequence.Item2,
            convs, byReshape, recurrent, dense, (Head)head);

    public static readonly Gen<Mutation> Mistake = Gen.Select(Gen.Int[0, Enum.GetValues<MutationKind>().Length - 1], Gen.Int[0, 1000],
        (k, t) => new Mutation((MutationKind)k, t));

    /// <summary>Value <paramref name="index"/> of a deterministic stream: the same seed gives the same values in every run.</summary>
    public static T Draw<T>(Gen<T> gen, ulong seed, int index) => gen.Generate(Pcg(seed, index), null!, out _);

    /// <summary>The generator state a value is drawn from; its text is the seed CsCheck's <c>Sample(seed: ...)</c> takes.</summary>
    public static PCG Pcg(ulong seed, int index) => new((uint)index, seed);
}
