using System.Globalization;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Ops;

namespace GraphCompiler.Generators.Plan;

/// <summary>
/// Lowers the planned graph to kernels and picks the register tile of each kernel for each vector width,
/// so that accumulators, weight vectors and the broadcast value fit the register file: 32 vector
/// registers with AVX-512, 16 with AVX2 (and the same budget for 128-bit code, so x64 without AVX2 does
/// not spill).
/// </summary>
internal static class LoopPlanner
{
    public static ModelPlan Run(ModelGraph graph)
    {
        var plan = new ModelPlan
        {
            Namespace = graph.Spec.Namespace,
            ClassName = graph.Spec.ClassName,
            ArenaFloatsPerSample = graph.ArenaFloatsPerSample,
        };
        var context = new LoweringContext(plan, graph.Layers);
        if (graph.DropoutSeed is not null)
        {
            context.DropoutSeedOffset = plan.DropoutSeedOffset = LoweringContext.PlaceOf(graph.DropoutSeed).Offset;
        }

        TensorValue input = graph.Inputs[0];
        plan.InputSize = input.Elements;
        plan.InputShape = input.ShapeText;
        if (input.IsTokens)
        {
            foreach (TensorValue tokens in graph.Inputs)
            {
                string name = "CopyIn_" + char.ToUpperInvariant(tokens.InputName![0]) + tokens.InputName.Substring(1);
                int vocabulary = tokens.Consumers.Where(c => c.Kind == OpKind.Embedding).Select(c => c.Layer!.In).DefaultIfEmpty(int.MaxValue).Min();
                plan.TokenInputs.Add(new TokenInputPlan(tokens.InputName, tokens.Elements, vocabulary, name));
                plan.Kernels.Add(new CopyInTokensPlan
                {
                    Name = name,
                    Comment = $"token input '{tokens.InputName}' [{tokens.Elements}]: ints into the arena at +{LoweringContext.PlaceOf(tokens).Offset}",
                    Length = tokens.Elements,
                    Destination = LoweringContext.PlaceOf(tokens),
                });
            }
        }
        else
        {
            plan.Kernels.Add(new CopyInPlan
            {
                Name = "CopyIn",
                Comment = $"input '{input.InputName}' {input.ShapeText}: PyTorch order -> {LoweringContext.PlaceOf(input).Describe()}",
                InputSize = input.Elements,
                Destination = LoweringContext.PlaceOf(input),
            });
        }

        foreach (Node node in graph.Live)
        {
            context.Current = node;
            OpTable.Get(node.Kind).Lower(node, context);
        }

        context.Current = null;

        TensorValue output = graph.Output!;
        plan.OutputSize = output.Elements;
        plan.OutputShape = output.ShapeText;
        plan.Kernels.Add(new CopyOutPlan
        {
            Name = "CopyOut",
            Comment = $"result {output.ShapeText}: {LoweringContext.PlaceOf(output).Describe()} -> PyTorch order",
            OutputSize = output.Elements,
            Source = LoweringContext.PlaceOf(output),
        });

        foreach (KernelPlan kernel in plan.Kernels)
        {
            ChooseTiles(kernel);
        }

        plan.Decode = DecodePlanner.Plan(graph, plan, context);
        if (plan.Decode is { } decode)
        {
            decode.TargetOffset = LoweringContext.PlaceOf(graph.Inputs[1]).Offset;
            decode.OutputOffset = LoweringContext.PlaceOf(output).Offset;
        }

        LowerBackward(graph, plan, context);

        Summarize(graph, plan);
        Describe(graph, plan);
        return plan;
    }

    /// <summary>The backward pass: the output gradient in, each op's gradient rule in reverse order, the input gradient out.</summary>
    private static void LowerBackward(ModelGraph graph, ModelPlan plan, LoweringContext context)
    {
        TensorValue output = graph.Output!, input = graph.Inputs[0];
        plan.Backward.Add(new GradCopyInPlan
        {
            Name = "GradCopyIn",
            Comment = $"output gradient {output.ShapeText}: PyTorch order -> {LoweringContext.PlaceOf(output.Grad!).Describe()}",
            Destination = LoweringContext.PlaceOf(output.Grad!),
            OutputSize = output.Elements,
        });
        context.Accumulate(output.Grad!); // the copy is the output gradient's first contribution

        foreach (Node node in graph.Live.Reverse())
        {
            OpTable.Get(node.Kind).LowerGradient(node, context);
        }

        if (input.Grad is null)
        {
            return; // token inputs have no gradient
        }

        plan.Backward.Add(new GradCopyOutPlan
        {
            Name = "GradCopyOut",
            Comment = $"input gradient {input.ShapeText}: {LoweringContext.PlaceOf(input.Grad!).Describe()} -> PyTorch order",
            Source = LoweringContext.PlaceOf(input.Grad!),
            InputSize = input.Elements,
            InputGradientOnly = true,
        });
    }

    private static readonly VectorWidth[] VectorWidths = { VectorWidth.V512, VectorWidth.V256, VectorWidth.V128 };

    /// <summary>Accumulators a tile may hold, leaving room for its weight vectors and a broadcast.</summary>
    private static int AccumulatorBudget(VectorWidth width) => width == VectorWidth.V512 ? 24 : 12;

    private static int MaxWeightVectors(VectorWidth width) => width == VectorWidth.V512 ? 4 : 2;

    private static void ChooseTiles(KernelPlan kernel)
    {
        foreach (VectorWidth width in VectorWidths)
        {
            int lanes = (int)width;
            int budget = AccumulatorBudget(width);
            switch (kernel)
            {
                case ConvPlan conv:
                    {
                        int vectors = conv.OutChannelsPadded / lanes;
                        int pixelsPerOutput = conv.PoolKernel * conv.PoolKernel;
                        int outW = conv.Output.W;
                        int cb = Enumerable.Range(1, MaxWeightVectors(width)).Reverse()
                            .First(c => vectors % c == 0 && c * pixelsPerOutput <= budget);
                        int cols = System.Math.Max(1, System.Math.Min(outW, budget / (cb * pixelsPerOutput)));
                        kernel.Tiles[width] = new Tile(cols, cb);
                        break;
                    }

                case LinearPlan linear:
                    {
                        // Sample tiles with as many output vectors as the budget allows (at least one),
                        // all tiles of a width sharing the same number of vectors.
                        int vectors = linear.OutFeaturesPadded / lanes;
                        int accumulators = width == VectorWidth.V512 ? 16 : 12;
                        int[] heights = width == VectorWidth.V512 ? new[] { 8, 4, 1 } : new[] { 6, 3, 1 };
                        int tileVectors = System.Math.Max(1, System.Math.Min(vectors, accumulators / heights[0]));
                        linear.RowTiles[width] = heights.Select(h => new Tile(h, tileVectors)).ToList();
                        linear.KBlock = ChooseKBlock(linear.DotLength);
                        break;
                    }
            }
        }
    }

    /// <summary>A K block of at most 256 steps, dividing K where possible: 256 x 32 packed floats fit L1.</summary>
    private static int ChooseKBlock(int k)
    {
        if (k <= 512)
        {
            return k;
        }

        for (int b = 256; b >= 128; b--)
        {
            if (k % b == 0)
            {
                return b;
            }
        }

        return 256;
    }

    private static void Summarize(ModelGraph graph, ModelPlan plan)
    {
        string Row(string a, string b, string c, string d) => $"{a,-28}{(a.Length >= 28 ? " " : "")}{b,-22}{c,14}{d,14}";
        var lines = plan.SummaryLines;
        string rule = new string('=', 78);
        lines.Add(rule);
        lines.Add(Row("Layer (type)", "Output shape", "Param #", "FLOPs"));
        lines.Add(rule);
        long totalFlops = 0;
        foreach (Node node in graph.Nodes)
        {
            long flops = OpTable.Get(node.Kind).Flops(node);
            totalFlops += flops;
            int parameters = node.Layer is null || node.Kind == OpKind.RecurrentState ? 0 : plan.Parameters.Where(p => p.Name.StartsWith(node.Layer.Name + ".", System.StringComparison.Ordinal)).Sum(p => p.Length);
            string name = node.Layer is null ? node.Kind.ToString() : $"{node.Layer.Name} ({node.Kind})";
            lines.Add(Row(name, ShapeOf(node), parameters.ToString("N0", CultureInfo.InvariantCulture), flops.ToString("N0", CultureInfo.InvariantCulture)));
        }

        int paramCount = plan.Parameters.Sum(p => p.Length);
        lines.Add(rule);
        lines.Add($"Total params: {paramCount.ToString("N0", CultureInfo.InvariantCulture)} ({(paramCount * 4.0 / 1024 / 1024).ToString("0.00", CultureInfo.InvariantCulture)} MB)");
        lines.Add($"Forward FLOPs per sample: {totalFlops.ToString("N0", CultureInfo.InvariantCulture)}");
        lines.Add($"Arena per sample: {(plan.ArenaFloatsPerSample * 4).ToString("N0", CultureInfo.InvariantCulture)} bytes; packed weights: {(plan.PackedFloats * 4).ToString("N0", CultureInfo.InvariantCulture)} bytes");
        lines.Add($"Kernels: {string.Join(", ", plan.Kernels.Select(k => k.Name))}");
        lines.Add(rule);
    }

    /// <summary>The declared graph (before fusion) in PyTorch's terms, for the generated description.</summary>
    private static void Describe(ModelGraph graph, ModelPlan plan)
    {
        // Each node's own output as declared: fusion moves Output to the fused op's, not DeclaredOutput.
        string Name(TensorValue t) => t.IsModelInput ? t.InputName! : "t" + t.Id.ToString(CultureInfo.InvariantCulture);
        plan.InputName = Name(graph.Inputs[0]);
        plan.OutputName = Name(graph.Output!);
        foreach (Node node in graph.Nodes)
        {
            var layer = node.Layer;
            int[] attributes = node.Kind switch
            {
                OpKind.Conv2d => new[] { layer!.Kernel, layer.Stride, layer.Padding, layer.Dilation, layer.Bias ? 1 : 0 },
                OpKind.MaxPool2d or OpKind.AvgPool2d => new[] { layer!.Kernel, layer.Stride, layer.Padding },
                OpKind.Linear => new[] { layer!.In, layer.Out, layer.Bias ? 1 : 0 },
                OpKind.Softmax or OpKind.LogSoftmax => new[] { node.Constants.Length > 0 ? node.Constants[0] : -1 },
                OpKind.Reshape => node.Constants,
                OpKind.Lstm or OpKind.Gru => new[] { layer!.In, layer.Out, layer.NumLayers, layer.Bias ? 1 : 0 },
                OpKind.RecurrentState => new[] { node.Constants[0] },
                OpKind.Select => new[] { node.Constants[0], Ops.SelectOp.Index(node) },
                OpKind.Embedding => new[] { layer!.In, layer.Out },
                OpKind.LayerNorm => new[] { layer!.In, Bits(layer.Eps) },
                OpKind.Attention => new[] { layer!.In, layer.Heads, node.Constants[0], node.Constants[1], node.Constants[2], layer.Bias ? 1 : 0, Bits(layer.Real) },
                OpKind.Dropout or OpKind.Scale => new[] { Bits(node.Real) },
                _ => new int[0],
            };
            string op = node.Kind switch
            {
                OpKind.Lstm => "LSTM",
                OpKind.Gru => "GRU",
                _ => node.Kind.ToString(),
            };
            plan.GraphNodes.Add(new GraphNodePlan(op, layer?.Name, node.Inputs.Select(Name).ToArray(),
                Name(node.DeclaredOutput), node.DeclaredOutput.Shape, attributes));
        }
    }

    /// <summary>A real attribute as the bits of its float, so that attributes stay integers.</summary>
    private static int Bits(double value)
    {
        float f = (float)value;
        return System.BitConverter.ToInt32(System.BitConverter.GetBytes(f), 0);
    }

    /// <summary>The shape an op produces on its own (fusion may have moved the node's output to a later op's).</summary>
    private static string ShapeOf(Node node)
    {
        int[] shape = node.Kind switch
        {
            OpKind.Conv2d => Conv2dOp.ConvShape(node),
            _ => node.DeclaredOutput.Shape,
        };
        return "[-1, " + string.Join(", ", shape) + "]";
    }
}
