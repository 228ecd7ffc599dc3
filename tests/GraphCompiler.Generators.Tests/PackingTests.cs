using GraphCompiler.Generators.Tests.Infrastructure;
using Xunit;

namespace GraphCompiler.Generators.Tests;

/// <summary>The weight packing's generated helpers beside the kernels.</summary>
public class PackingTests
{
    [Fact]
    public void Layers_named_like_the_packing_helpers_get_other_kernel_names()
    {
        // A Linear's kernels are named after its layer (transposeBlock -> TransposeBlock_V512), which the
        // packing's own transpose helpers are called too.
        var source = TestSource.Model("""
            [Model]
            public partial class HelperNames
            {
                [Linear(12, 20)] readonly Layer transposeBlock;
                [Linear(20, 7)]  readonly Layer transposeTile;
                [Linear(7, 3)]   readonly Layer packWeights;

                [Forward]
                Tensor Forward([Shape(12)] Tensor x) => packWeights(Relu(transposeTile(Relu(transposeBlock(x)))));
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        DiagnosticAssert.None(run);
        string generated = Assert.Single(run.GeneratedSources).Value;
        Assert.Contains("TransposeBlock_2_V512(", generated, StringComparison.Ordinal);
        Assert.Contains("TransposeTile_2_V512(", generated, StringComparison.Ordinal);
    }
}
