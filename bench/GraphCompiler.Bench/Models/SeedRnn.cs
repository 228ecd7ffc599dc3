using GraphCompiler;

namespace GraphCompiler.Bench.Models;

/// <summary>
/// The seed's RNN as a GraphCompiler model: a 2-layer LSTM over the 28 rows of an image, the last step's
/// hidden state into a linear classifier. Left out of the build with <c>-p:WithGeneratedModels=false</c>.
/// </summary>
[Model]
public partial class SeedRnn
{
    [Lstm(28, 128, NumLayers = 2)] readonly LstmLayer lstm;
    [Linear(128, 10)]              readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(28, 28)] Tensor x)
    {
        var (output, _) = lstm(x);
        return fc(output[.., ^1]);
    }
}

/// <summary>The seed RNN's shape with a GRU in place of the LSTM.</summary>
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
