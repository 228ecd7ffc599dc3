using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Models;

// Recurrent models. All but SeedRnn, SeedGru and the three batch-1 pipeline models (LstmStackInitialStates,
// GruStackNoBias, LstmWideOneLayer) are mirrored, with the same attribute names, hyperparameters and input
// shape, in tests/golden/make_golden.py (PyTorch golden cases); change both together. Their double-precision
// forward passes are in tests/GraphCompiler.Tests/Reference/RecurrentReference.cs.

/// <summary>The recurrent models by name, for tests that run each of them the same way.</summary>
public static class RecurrentModels
{
    public static ICompiledModel Create(string name, int maxBatch, int seed) => name switch
    {
        nameof(LstmClassifier) => new LstmClassifier(maxBatch, seed),
        nameof(LstmFinalStates) => new LstmFinalStates(maxBatch, seed),
        nameof(LstmInitialStates) => new LstmInitialStates(maxBatch, seed),
        nameof(LstmDeepNoBias) => new LstmDeepNoBias(maxBatch, seed),
        nameof(GruClassifier) => new GruClassifier(maxBatch, seed),
        nameof(GruInitialState) => new GruInitialState(maxBatch, seed),
        nameof(GruSequenceNoBias) => new GruSequenceNoBias(maxBatch, seed),
        nameof(SeedRnn) => new SeedRnn(maxBatch, seed),
        nameof(SeedGru) => new SeedGru(maxBatch, seed),
        nameof(LstmStackInitialStates) => new LstmStackInitialStates(maxBatch, seed),
        nameof(GruStackNoBias) => new GruStackNoBias(maxBatch, seed),
        nameof(LstmWideOneLayer) => new LstmWideOneLayer(maxBatch, seed),
        _ => throw new ArgumentException($"No recurrent model '{name}'.", nameof(name)),
    };

    public static GraphDescription Graph(string name) => name switch
    {
        nameof(LstmClassifier) => LstmClassifier.Graph,
        nameof(LstmFinalStates) => LstmFinalStates.Graph,
        nameof(LstmInitialStates) => LstmInitialStates.Graph,
        nameof(LstmDeepNoBias) => LstmDeepNoBias.Graph,
        nameof(GruClassifier) => GruClassifier.Graph,
        nameof(GruInitialState) => GruInitialState.Graph,
        nameof(GruSequenceNoBias) => GruSequenceNoBias.Graph,
        nameof(SeedRnn) => SeedRnn.Graph,
        nameof(SeedGru) => SeedGru.Graph,
        nameof(LstmStackInitialStates) => LstmStackInitialStates.Graph,
        nameof(GruStackNoBias) => GruStackNoBias.Graph,
        nameof(LstmWideOneLayer) => LstmWideOneLayer.Graph,
        _ => throw new ArgumentException($"No recurrent model '{name}'.", nameof(name)),
    };
}

/// <summary>The seed's RNN (section 4.2) made small: hidden 12 (not a whole number of vectors), 2 layers, the last step classified.</summary>
[Model]
public partial class LstmClassifier
{
    [Lstm(5, 12, NumLayers = 2)] readonly LstmLayer lstm;
    [Linear(12, 4)]              readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(6, 5)] Tensor x)
    {
        var (output, _) = lstm(x);
        return fc(output[.., ^1]);
    }
}

/// <summary>One layer, hidden 16: the final states h_n + c_n and a middle step of the output sequence feed the result.</summary>
[Model]
public partial class LstmFinalStates
{
    [Lstm(7, 16)]   readonly LstmLayer lstm;
    [Linear(16, 3)] readonly Layer fc;
    [Linear(16, 3)] readonly Layer head;

    [Forward]
    Tensor Forward([Shape(5, 7)] Tensor x)
    {
        var (output, (hn, cn)) = lstm(x);
        return fc(Flatten(hn + cn)) + head(output[.., 1, ..]);
    }
}

/// <summary>Two layers, hidden 10, initial states computed from the input; c_n of both layers and the last step feed the result.</summary>
[Model]
public partial class LstmInitialStates
{
    [Linear(20, 20)]             readonly Layer hinit;
    [Linear(20, 20)]             readonly Layer cinit;
    [Lstm(4, 10, NumLayers = 2)] readonly LstmLayer lstm;
    [Linear(20, 6)]              readonly Layer fc;
    [Linear(10, 6)]              readonly Layer head;

    [Forward]
    Tensor Forward([Shape(5, 4)] Tensor x)
    {
        var h0 = Reshape(Tanh(hinit(Flatten(x))), -1, 2, 10);
        var c0 = Reshape(cinit(Flatten(x)), -1, 2, 10);
        var (output, (hn, cn)) = lstm(x, (h0, c0));
        return fc(Flatten(cn)) + head(Select(output, 1, -1));
    }
}

/// <summary>The seed's RNN shape with a GRU: hidden 12, 2 layers, the last step classified.</summary>
[Model]
public partial class GruClassifier
{
    [Gru(5, 12, NumLayers = 2)] readonly GruLayer gru;
    [Linear(12, 4)]             readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(6, 5)] Tensor x)
    {
        var (output, _) = gru(x);
        return fc(output[.., -1, ..]);
    }
}

/// <summary>Two layers, hidden 9, h0 computed from the input; h_n of both layers and the first step feed the result.</summary>
[Model]
public partial class GruInitialState
{
    [Linear(12, 18)]            readonly Layer init;
    [Gru(3, 9, NumLayers = 2)]  readonly GruLayer gru;
    [Linear(18, 5)]             readonly Layer fc;
    [Linear(9, 5)]              readonly Layer head;

    [Forward]
    Tensor Forward([Shape(4, 3)] Tensor x)
    {
        var h0 = Reshape(Tanh(init(Flatten(x))), -1, 2, 9);
        var (output, hn) = gru(x, h0);
        return fc(Flatten(hn)) + head(Select(output, 1, 0));
    }
}

/// <summary>Three layers without biases, hidden 8 (half a 512-bit vector); the output is h_n of every layer.</summary>
[Model]
public partial class LstmDeepNoBias
{
    [Lstm(3, 8, NumLayers = 3, Bias = false)] readonly LstmLayer lstm;

    [Forward]
    Tensor Forward([Shape(4, 3)] Tensor x)
    {
        var (_, (hn, _)) = lstm(x);
        return Flatten(hn);
    }
}

/// <summary>One layer without biases, hidden 20 (more than one 512-bit vector, not two); the output is the whole sequence.</summary>
[Model]
public partial class GruSequenceNoBias
{
    [Gru(6, 20, Bias = false)] readonly GruLayer gru;

    [Forward]
    Tensor Forward([Shape(3, 6)] Tensor x)
    {
        var (output, _) = gru(x);
        return Flatten(output);
    }
}

/// <summary>The seed's RNN (section 4.2) at full size: rows of a 28x28 image as 28 steps, 2 layers of 128, 10 classes.</summary>
[Model]
public partial class SeedRnn
{
    [Lstm(28, 128, NumLayers = 2)] readonly LstmLayer lstm;
    [Linear(128, 10)]              readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(28, 28)] Tensor x)
    {
        var (output, (hn, cn)) = lstm(x);
        return fc(output[.., ^1]);
    }
}

/// <summary>The seed's RNN with a GRU: at hidden 128 batch 1 takes the software-pipelined step loop on every vector width.</summary>
[Model]
public partial class SeedGru
{
    [Gru(28, 128, NumLayers = 2)] readonly GruLayer gru;
    [Linear(128, 10)]             readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(28, 28)] Tensor x)
    {
        var (output, _) = gru(x);
        return fc(output[.., ^1]);
    }
}

// The batch-1 step loop is software-pipelined where the hidden size is a whole number of vectors and gives enough
// tiles (hidden 48 and up on every width); stacked layers then run as a wavefront, each layer 4 steps behind the
// one below with its input projected 4 steps at a time. These models cover what the seed's shapes do not.

/// <summary>Three layers of 48 with given h0 and c0, 9 steps (the last input projection is of 1 step); c_n and the last step feed the result.</summary>
[Model]
public partial class LstmStackInitialStates
{
    [Linear(54, 144)]             readonly Layer hinit;
    [Linear(54, 144)]             readonly Layer cinit;
    [Lstm(6, 48, NumLayers = 3)]  readonly LstmLayer lstm;
    [Linear(144, 5)]              readonly Layer fc;
    [Linear(48, 5)]               readonly Layer head;

    [Forward]
    Tensor Forward([Shape(9, 6)] Tensor x)
    {
        var h0 = Reshape(Tanh(hinit(Flatten(x))), -1, 3, 48);
        var c0 = Reshape(cinit(Flatten(x)), -1, 3, 48);
        var (output, (hn, cn)) = lstm(x, (h0, c0));
        return fc(Flatten(cn)) + head(Select(output, 1, -1));
    }
}

/// <summary>Three GRU layers of 96 without biases and with a given h0, 3 steps (fewer than the wavefront's lag); the output is h_n.</summary>
[Model]
public partial class GruStackNoBias
{
    [Linear(15, 288)]                         readonly Layer init;
    [Gru(5, 96, NumLayers = 3, Bias = false)] readonly GruLayer gru;

    [Forward]
    Tensor Forward([Shape(3, 5)] Tensor x)
    {
        var h0 = Reshape(Tanh(init(Flatten(x))), -1, 3, 96);
        var (_, hn) = gru(x, h0);
        return Flatten(hn);
    }
}

/// <summary>One LSTM layer of 64 (the pipelined batch-1 loop without a stack), 6 steps; the output is the whole sequence.</summary>
[Model]
public partial class LstmWideOneLayer
{
    [Lstm(3, 64)] readonly LstmLayer lstm;

    [Forward]
    Tensor Forward([Shape(6, 3)] Tensor x)
    {
        var (output, _) = lstm(x);
        return Flatten(output);
    }
}
