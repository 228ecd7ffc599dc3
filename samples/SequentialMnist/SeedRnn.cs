using GraphCompiler;

namespace SequentialMnist;

/// <summary>
/// The seed's RNN (input_size 28, hidden_size 128, num_layers 2, num_classes 10): a 2-layer LSTM reads an
/// image row by row, 28 steps of 28 pixels, and the last step's hidden state goes through a linear layer.
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
