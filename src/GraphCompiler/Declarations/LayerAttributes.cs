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
