using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;

namespace GraphCompiler.Generators.Ops;

/// <summary>The one table of ops. A test checks that every <see cref="OpKind"/> has a rule.</summary>
internal static class OpTable
{
    private static readonly Dictionary<OpKind, IOpRule> Rules = new IOpRule[]
    {
        new Conv2dOp(),
        new PoolOp(OpKind.MaxPool2d),
        new PoolOp(OpKind.AvgPool2d),
        new LinearOp(),
        new ActivationOp(OpKind.Relu),
        new ActivationOp(OpKind.Tanh),
        new ActivationOp(OpKind.Sigmoid),
        new SoftmaxOp(OpKind.Softmax),
        new SoftmaxOp(OpKind.LogSoftmax),
        new FlattenOp(),
        new ReshapeOp(),
        new ElementwiseBinaryOp(OpKind.Add),
        new ElementwiseBinaryOp(OpKind.Mul),
        new RecurrentOp(OpKind.Lstm),
        new RecurrentOp(OpKind.Gru),
        new RecurrentStateOp(),
        new SelectOp(),
        new EmbeddingOp(),
        new LayerNormOp(),
        new AttentionOp(),
        new PointwiseCallOp(OpKind.Dropout),
        new PointwiseCallOp(OpKind.Gelu),
        new PointwiseCallOp(OpKind.Scale),
        new PointwiseCallOp(OpKind.PositionalEncoding),
        new PositionalEmbeddingOp(),
    }.ToDictionary(r => r.Kind);

    public static IOpRule Get(OpKind kind) => Rules[kind];

    public static IReadOnlyCollection<OpKind> Kinds => Rules.Keys;
}
