using GraphCompiler;
using static GraphCompiler.Ops;

namespace GraphCompiler.Bench.Models;

/// <summary>
/// The seed's MNIST CNN as a GraphCompiler model. The generator adds <c>Forward(input, output)</c>,
/// <c>Parameters</c>, the constructors, the size constants and the training API. Left out of the build
/// with <c>-p:WithGeneratedModels=false</c>.
/// </summary>
[Model]
public partial class MnistCnn
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
