namespace GraphCompiler;

/// <summary>
/// 2-D convolution over an input of shape [C_in, H, W], as <c>nn.Conv2d</c>: weight [out, in, kH, kW],
/// bias [out]. <c>H_out = (H + 2*Padding - Dilation*(Kernel-1) - 1) / Stride + 1</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class Conv2dAttribute : Attribute
{
    public Conv2dAttribute(int inChannels, int outChannels)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
    }

    public Conv2dAttribute(int inChannels, int outChannels, int kernelSize)
        : this(inChannels, outChannels) => Kernel = kernelSize;

    public int InChannels { get; }
    public int OutChannels { get; }
    /// <summary>Square kernel size (PyTorch's <c>kernel_size</c>); required.</summary>
    public int Kernel { get; set; }
    public int Stride { get; set; } = 1;
    public int Padding { get; set; }
    public int Dilation { get; set; } = 1;
    public bool Bias { get; set; } = true;
}

/// <summary>Max pooling, as <c>nn.MaxPool2d</c>. <see cref="Stride"/> defaults to the kernel size.</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class MaxPool2dAttribute : Attribute
{
    public MaxPool2dAttribute(int kernelSize) => Kernel = kernelSize;

    public int Kernel { get; }
    /// <summary>0 means "same as the kernel", PyTorch's default.</summary>
    public int Stride { get; set; }
    public int Padding { get; set; }
}

/// <summary>
/// Average pooling, as <c>nn.AvgPool2d</c> with <c>count_include_pad=True</c> (PyTorch's default).
/// <see cref="Stride"/> defaults to the kernel size.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class AvgPool2dAttribute : Attribute
{
    public AvgPool2dAttribute(int kernelSize) => Kernel = kernelSize;

    public int Kernel { get; }
    /// <summary>0 means "same as the kernel", PyTorch's default.</summary>
    public int Stride { get; set; }
    public int Padding { get; set; }
}

/// <summary>Fully connected layer, as <c>nn.Linear</c>: weight [out, in], bias [out].</summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LinearAttribute : Attribute
{
    public LinearAttribute(int inFeatures, int outFeatures)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public bool Bias { get; set; } = true;
}

/// <summary>
/// Multi-layer LSTM, as <c>nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)</c>: over an input
/// of shape [T, input_size] per sample it gives the last layer's hidden state at every step, [T, hidden_size],
/// and the final states h_n and c_n, each [num_layers, hidden_size]. Declare the member as an
/// <see cref="LstmLayer"/>. Parameters as PyTorch's: <c>weight_ih_l{k}</c> [4H, in], <c>weight_hh_l{k}</c>
/// [4H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [4H], gates in the order i, f, g, o; all initialized
/// uniformly in ±1/sqrt(H).
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LstmAttribute : Attribute
{
    public LstmAttribute(int inputSize, int hiddenSize)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    public LstmAttribute(int inputSize, int hiddenSize, int numLayers)
        : this(inputSize, hiddenSize) => NumLayers = numLayers;

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; set; } = 1;
    public bool Bias { get; set; } = true;
    /// <summary>
    /// The batch is always the first dimension in GraphCompiler (every span is batch x sample), so this
    /// must stay true; it is here so that a declaration reads like its PyTorch original.
    /// </summary>
    public bool BatchFirst { get; set; } = true;
}

/// <summary>
/// Multi-layer GRU, as <c>nn.GRU(input_size, hidden_size, num_layers, batch_first=True)</c>: over [T, input_size]
/// per sample it gives the last layer's hidden state at every step, [T, hidden_size], and h_n,
/// [num_layers, hidden_size]. Declare the member as a <see cref="GruLayer"/>. Parameters as PyTorch's
/// (<c>weight_ih_l{k}</c> [3H, in], <c>weight_hh_l{k}</c> [3H, H], biases [3H]), gates in the order r, z, n.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class GruAttribute : Attribute
{
    public GruAttribute(int inputSize, int hiddenSize)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
    }

    public GruAttribute(int inputSize, int hiddenSize, int numLayers)
        : this(inputSize, hiddenSize) => NumLayers = numLayers;

    public int InputSize { get; }
    public int HiddenSize { get; }
    public int NumLayers { get; set; } = 1;
    public bool Bias { get; set; } = true;
    /// <inheritdoc cref="LstmAttribute.BatchFirst"/>
    public bool BatchFirst { get; set; } = true;
}
