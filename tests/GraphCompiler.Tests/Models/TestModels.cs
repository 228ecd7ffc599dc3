using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Tests.Models;

/// <summary>The seed's CNN (section 4.1) with fc1 sized for 28x28 inputs.</summary>
[Model]
public partial class SeedCnn
{
    [Conv2d(1, 32, Kernel = 3, Padding = 1)]  readonly Layer conv1;
    [Conv2d(32, 64, Kernel = 3, Padding = 1)] readonly Layer conv2;
    [MaxPool2d(2)]                            readonly Layer pool;
    [Linear(64 * 7 * 7, 128)]                 readonly Layer fc1;
    [Linear(128, 10)]                         readonly Layer fc2;

    [Forward]
    Tensor Forward([Shape(1, 28, 28)] Tensor x)
    {
        x = pool(Relu(conv1(x)));
        x = pool(Relu(conv2(x)));
        x = Flatten(x);
        x = Relu(fc1(x));
        return fc2(x);
    }
}

/// <summary>Stride, padding and dilation together, odd sizes, channels that are not whole vectors, tanh, log-softmax.</summary>
[Model]
public partial class StridedDilatedConv
{
    [Conv2d(3, 5, Kernel = 3, Stride = 2, Padding = 2, Dilation = 2)] readonly Layer conv;
    [Linear(5 * 6 * 5, 7)] readonly Layer fc;

    [Forward]
    Tensor Forward([Shape(3, 11, 9)] Tensor x)
    {
        var h = Tanh(conv(x));
        return LogSoftmax(fc(Flatten(h)));
    }
}

/// <summary>Standalone pools (padded max, padded average), sigmoid, a conv without bias, and an NHWC result.</summary>
[Model]
public partial class PoolingMix
{
    [Conv2d(2, 20, Kernel = 1, Bias = false)]     readonly Layer conv;
    [AvgPool2d(3, Stride = 2, Padding = 1)]       readonly Layer avg;
    [MaxPool2d(3, Stride = 2, Padding = 1)]       readonly Layer max;

    [Forward]
    Tensor Forward([Shape(2, 9, 10)] Tensor x) => max(avg(Sigmoid(conv(x))));
}

/// <summary>A fused 2x2 average pool after tanh, and a 3x3 fused max pool.</summary>
[Model]
public partial class FusedPools
{
    [Conv2d(4, 24, Kernel = 3, Padding = 1)]  readonly Layer conv1;
    [AvgPool2d(2)]                            readonly Layer avg;
    [Conv2d(24, 16, Kernel = 2)]              readonly Layer conv2;
    [MaxPool2d(3)]                            readonly Layer max;

    [Forward]
    Tensor Forward([Shape(4, 8, 8)] Tensor x)
    {
        x = avg(Tanh(conv1(x)));
        x = max(Relu(conv2(x)));
        return Flatten(x);
    }
}

/// <summary>Element-wise + and *, reshape to an image and back, softmax.</summary>
[Model]
public partial class ElementwiseAndReshape
{
    [Linear(20, 48)]                        readonly Layer a;
    [Linear(20, 48)]                        readonly Layer b;
    [Conv2d(3, 4, Kernel = 3, Padding = 1)] readonly Layer conv;
    [Linear(64, 6, Bias = false)]           readonly Layer head;

    [Forward]
    Tensor Forward([Shape(20)] Tensor x)
    {
        var s = a(x) + b(x);
        var p = Sigmoid(a(x)) * s;
        var image = Reshape(p, -1, 3, 4, 4);
        var y = Relu(conv(image));
        return Softmax(head(Reshape(y, -1, 64)));
    }
}
