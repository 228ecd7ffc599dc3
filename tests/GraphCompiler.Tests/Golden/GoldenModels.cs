using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Golden;

// Single-op models for the PyTorch golden tests. Each one is mirrored, with the same attribute names,
// hyperparameters and input shape, in tests/golden/make_golden.py; change both together.

// ---- Convolutions: stride, padding, dilation, kernel sizes, channel counts that are not whole vectors ----

/// <summary>Stride 2 with padding 1: [3, 9, 9] -> [8, 5, 5].</summary>
[Model]
public partial class ConvStride2Pad1
{
    [Conv2d(3, 8, Kernel = 3, Stride = 2, Padding = 1)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(3, 9, 9)] Tensor x) => conv(x);
}

/// <summary>Dilation 2 with padding 2 ("same" size): [4, 10, 10] -> [6, 10, 10].</summary>
[Model]
public partial class ConvDilation2Pad2
{
    [Conv2d(4, 6, Kernel = 3, Padding = 2, Dilation = 2)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(4, 10, 10)] Tensor x) => conv(x);
}

/// <summary>Stride 3, dilation 2, no padding, rows and columns left over: [2, 13, 11] -> [5, 3, 3].</summary>
[Model]
public partial class ConvStride3Dilation2
{
    [Conv2d(2, 5, Kernel = 3, Stride = 3, Dilation = 2)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(2, 13, 11)] Tensor x) => conv(x);
}

/// <summary>A 5x5 kernel without bias, 17 output channels: [3, 7, 7] -> [17, 7, 7].</summary>
[Model]
public partial class ConvKernel5NoBias
{
    [Conv2d(3, 17, Kernel = 5, Padding = 2, Bias = false)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(3, 7, 7)] Tensor x) => conv(x);
}

/// <summary>An even 4x4 kernel, stride 2, padding 1: [5, 8, 8] -> [8, 4, 4].</summary>
[Model]
public partial class ConvKernel4Stride2
{
    [Conv2d(5, 8, Kernel = 4, Stride = 2, Padding = 1)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(5, 8, 8)] Tensor x) => conv(x);
}

/// <summary>Stride, padding and dilation on an even kernel: [3, 9, 8] -> [4, 4, 4].</summary>
[Model]
public partial class ConvKernel2Stride2Pad1Dilation3
{
    [Conv2d(3, 4, Kernel = 2, Stride = 2, Padding = 1, Dilation = 3)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(3, 9, 8)] Tensor x) => conv(x);
}

/// <summary>Many channels, none a whole number of vectors: [33, 6, 5] -> [40, 6, 5].</summary>
[Model]
public partial class ConvWideChannels
{
    [Conv2d(33, 40, Kernel = 3, Padding = 1)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(33, 6, 5)] Tensor x) => conv(x);
}

/// <summary>A 1x1 kernel with stride 2: [16, 7, 7] -> [16, 4, 4].</summary>
[Model]
public partial class Conv1x1Stride2
{
    [Conv2d(16, 16, Kernel = 1, Stride = 2)] readonly Layer conv;

    [Forward]
    Tensor Forward([Shape(16, 7, 7)] Tensor x) => conv(x);
}

// ---- Pools on the model input (no convolution to fuse into) ----

/// <summary>Max pool 3, stride 2, padding 1: [5, 9, 8] -> [5, 5, 4].</summary>
[Model]
public partial class MaxPool3Stride2Pad1
{
    [MaxPool2d(3, Stride = 2, Padding = 1)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(5, 9, 8)] Tensor x) => pool(x);
}

/// <summary>Max pool 2 on odd sizes (the last row and column dropped): [3, 7, 7] -> [3, 3, 3].</summary>
[Model]
public partial class MaxPool2Odd
{
    [MaxPool2d(2)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(3, 7, 7)] Tensor x) => pool(x);
}

/// <summary>Overlapping max pool 3, stride 1, padding 1: [4, 6, 6] -> [4, 6, 6].</summary>
[Model]
public partial class MaxPool3Stride1Pad1
{
    [MaxPool2d(3, Stride = 1, Padding = 1)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(4, 6, 6)] Tensor x) => pool(x);
}

/// <summary>Average pool 3, stride 2, padding 1 (padding counted): [5, 9, 8] -> [5, 5, 4].</summary>
[Model]
public partial class AvgPool3Stride2Pad1
{
    [AvgPool2d(3, Stride = 2, Padding = 1)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(5, 9, 8)] Tensor x) => pool(x);
}

/// <summary>Average pool 2 with padding 1: [3, 7, 6] -> [3, 4, 4].</summary>
[Model]
public partial class AvgPool2Pad1
{
    [AvgPool2d(2, Padding = 1)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(3, 7, 6)] Tensor x) => pool(x);
}

/// <summary>Average pool 3 on sizes that do not divide: [4, 10, 9] -> [4, 3, 3].</summary>
[Model]
public partial class AvgPool3
{
    [AvgPool2d(3)] readonly Layer pool;

    [Forward]
    Tensor Forward([Shape(4, 10, 9)] Tensor x) => pool(x);
}

// ---- Linear ----

/// <summary>Linear 37 -> 19 with bias; its output is read as class scores (cross-entropy).</summary>
[Model]
public partial class Linear37To19
{
    [Linear(37, 19)] readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(37)] Tensor x) => fc(x);
}

/// <summary>Linear 64 -> 33 without bias.</summary>
[Model]
public partial class Linear64To33NoBias
{
    [Linear(64, 33, Bias = false)] readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(64)] Tensor x) => fc(x);
}

// ---- Activations and softmax on the model input ----

/// <summary>Tanh of an image: [3, 5, 7].</summary>
[Model]
public partial class TanhOnly
{
    [Forward]
    Tensor Forward([Shape(3, 5, 7)] Tensor x) => Tanh(x);
}

/// <summary>Sigmoid of a vector: [41].</summary>
[Model]
public partial class SigmoidOnly
{
    [Forward]
    Tensor Forward([Shape(41)] Tensor x) => Sigmoid(x);
}

/// <summary>ReLU of an image: [2, 6, 5].</summary>
[Model]
public partial class ReluOnly
{
    [Forward]
    Tensor Forward([Shape(2, 6, 5)] Tensor x) => Relu(x);
}

/// <summary>Softmax of a vector: [10].</summary>
[Model]
public partial class SoftmaxOnly
{
    [Forward]
    Tensor Forward([Shape(10)] Tensor x) => Softmax(x);
}

/// <summary>Softmax over the last dimension of [4, 6]: four rows per sample.</summary>
[Model]
public partial class SoftmaxRows
{
    [Forward]
    Tensor Forward([Shape(4, 6)] Tensor x) => Softmax(x, -1);
}

/// <summary>Log-softmax of a vector: [13]; its output is read as class scores (cross-entropy).</summary>
[Model]
public partial class LogSoftmaxOnly
{
    [Forward]
    Tensor Forward([Shape(13)] Tensor x) => LogSoftmax(x);
}
