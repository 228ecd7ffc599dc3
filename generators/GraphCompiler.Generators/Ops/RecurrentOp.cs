using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Diagnostics;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;
using GraphCompiler.Generators.Spec;

namespace GraphCompiler.Generators.Ops;

/// <summary>
/// nn.LSTM and nn.GRU (batch first). Shape: [T, input] (+ initial states [layers, H]) -> [T, H], the top
/// layer's state at every step. Lowering, per stacked layer: the input projection of all steps as one GEMM
/// (biases folded in), then the time loop, each step one fused kernel: the recurrent product on the
/// previous state plus the gate nonlinearities and the state update as its epilogue. Gates are interleaved
/// per group of 16 hidden units so a register tile holds every gate of its units.
/// <para>
/// LSTM: i, f, g, o = sigma, sigma, tanh, sigma of (W_ih x + b_ih + W_hh h + b_hh); c' = f c + i g; h' = o tanh(c').
/// GRU: r, z = sigma(...); n = tanh(W_in x + b_in + r (W_hn h + b_hn)); h' = (1 - z) n + z h.
/// </para>
/// </summary>
internal sealed class RecurrentOp : IOpRule
{
    public RecurrentOp(OpKind kind) => Kind = kind;

    public OpKind Kind { get; }

    private bool IsLstm => Kind == OpKind.Lstm;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics)
    {
        LayerSpec layer = node.Layer!;
        TensorValue x = node.Input;
        if (x.Rank != 2)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                $"{layer.Name}: {layer.Kind} expects a sequence [T, {layer.In}] per sample, but {x.ShapeText} arrives here" +
                (x.Rank == 1 ? $"; give it steps, e.g. Reshape(x, -1, {System.Math.Max(1, x.Elements / System.Math.Max(1, layer.In))}, {layer.In})" : ""));
            return null;
        }

        if (x.Shape[1] != layer.In)
        {
            diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, layer.Location,
                $"{layer.Name}: {layer.Kind} is declared with input size {layer.In}, but steps of {x.Shape[1]} features arrive here ({x.ShapeText}); declare [{layer.Kind}({x.Shape[1]}, {layer.Out}{(layer.NumLayers > 1 ? $", NumLayers = {layer.NumLayers}" : "")})]");
            return null;
        }

        string[] names = IsLstm ? new[] { "h0", "c0" } : new[] { "h0" };
        for (int i = 1; i < node.Inputs.Length; i++)
        {
            TensorValue state = node.Inputs[i];
            if (state.Rank != 2 || state.Shape[0] != layer.NumLayers || state.Shape[1] != layer.Out)
            {
                diagnostics.Add(DiagnosticDescriptors.ShapeMismatch, node.Location,
                    $"{layer.Name}: the initial state {names[i - 1]} must be [{layer.NumLayers}, {layer.Out}] per sample (num_layers, hidden_size), but it is {state.ShapeText}");
                return null;
            }
        }

        return new[] { x.Shape[0], layer.Out };
    }

    public long Flops(Node node)
    {
        LayerSpec layer = node.Layer!;
        int gates = IsLstm ? 4 : 3;
        int steps = node.Input.Shape[0];
        long flops = 0;
        for (int l = 0; l < layer.NumLayers; l++)
        {
            int input = l == 0 ? layer.In : layer.Out;
            flops += 2L * steps * gates * layer.Out * (input + layer.Out);
        }

        return flops;
    }

    /// <summary>Layout: the states, cells and gates of every stacked layer, and their gradients, in the arena.</summary>
    public static void AddBuffers(Node node, ModelGraph graph)
    {
        LayerSpec layer = node.Layer!;
        int steps = node.Input.Shape[0];
        int hp = LoweringContext.RoundUp(layer.Out, RecurrentLayerPlan.Group);
        TensorValue Buffer(int floats, TensorValue? gradOf)
        {
            TensorValue t = graph.NewTensor(new[] { floats });
            t.GradOf = gradOf;
            t.Storage.Kind = StorageKind.Flat;
            t.Storage.Floats = floats;
            t.Storage.Stored = true;
            return t;
        }

        for (int l = 0; l < layer.NumLayers; l++)
        {
            var buffers = new RecurrentBuffers
            {
                States = Buffer((steps + 1) * hp, null),
                Cells = node.Kind == OpKind.Lstm ? Buffer((steps + 1) * hp, null) : null,
                Gates = Buffer(steps * RecurrentLayerPlan.Slots * hp, null),
            };
            buffers.StateGrads = Buffer(steps * hp, buffers.States);
            buffers.GateGrads = Buffer(steps * RecurrentLayerPlan.Slots * hp, buffers.Gates);
            buffers.Carry = Buffer(hp, buffers.States);
            if (l == 0)
            {
                buffers.InputGrads = Buffer(steps * LoweringContext.RoundUp(layer.In, RecurrentLayerPlan.Group), node.Input);
            }

            node.Recurrent.Add(buffers);
        }
    }

    public void Lower(Node node, LoweringContext context)
    {
        LayerSpec layer = node.Layer!;
        string stem = context.KernelName(node);
        int steps = node.Input.Shape[0];
        var plans = new List<RecurrentLayerPlan>();
        RecurrentLayersPlan? stack = layer.NumLayers < 2 ? null : new RecurrentLayersPlan
        {
            Name = stem + "_Layers",
            Comment = $"{layer.Name}: the steps of its {layer.NumLayers} layers and the input projection" +
                (layer.NumLayers == 2 ? " of layer 1" : $"s of layers 1 to {layer.NumLayers - 1}"),
        };
        for (int l = 0; l < layer.NumLayers; l++)
        {
            RecurrentBuffers b = node.Recurrent[l];
            string suffix = "_l" + l.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int input = l == 0 ? layer.In : layer.Out;
            var p = new RecurrentLayerPlan
            {
                Layer = layer.Name,
                KernelStem = stem,
                Index = l,
                IsLstm = IsLstm,
                Steps = steps,
                Hidden = layer.Out,
                HiddenPadded = LoweringContext.RoundUp(layer.Out, RecurrentLayerPlan.Group),
                InputSize = input,
                InputPadded = LoweringContext.RoundUp(input, RecurrentLayerPlan.Group),
                InputOffset = l == 0 ? context.Place(node.Input).Offset : plans[l - 1].StatesOffset + plans[l - 1].HiddenPadded,
                InputRowStride = l == 0 ? layer.In : plans[l - 1].HiddenPadded,
                StatesOffset = b.States.Storage.Offset,
                CellsOffset = b.Cells?.Storage.Offset ?? -1,
                GatesOffset = b.Gates.Storage.Offset,
                StateGradsOffset = b.StateGrads.Storage.Offset,
                GateGradsOffset = b.GateGrads.Storage.Offset,
                CarryOffset = b.Carry.Storage.Offset,
                WeightIh = context.ParameterOffset($"{layer.Name}.weight_ih{suffix}"),
                WeightHh = context.ParameterOffset($"{layer.Name}.weight_hh{suffix}"),
                BiasIh = context.ParameterOffset($"{layer.Name}.bias_ih{suffix}"),
                BiasHh = context.ParameterOffset($"{layer.Name}.bias_hh{suffix}"),
            };
            plans.Add(p);
            AddPacks(p, context, layer, suffix);

            string name = $"{stem}_L{l}";
            string gates = IsLstm ? "i, f, g, o" : "r, z, n";
            var projection = new RecurrentProjectionPlan
            {
                Name = name + "_Input",
                Comment = $"{p.Label}: the input projection of all {steps} steps, [{steps}, {input}] x weight_ih{suffix}^T"
                    + (layer.Bias ? " + biases" : "") + $" -> gates [{steps}][{p.Groups} groups][{gates}][16], one GEMM over batch x steps",
                Layer = p,
            };
            RecurrentTiling.Projection(projection.Tiling);
            if (l == 0 || stack is null)
            {
                context.Add(projection);
            }
            else
            {
                stack.Projections.Add(projection);
            }

            var loop = new RecurrentStepsPlan
            {
                Name = name + "_Steps",
                CellName = stem + "_Cell",
                EmitsCell = l == 0,
                Comment = $"{p.Label}: {steps} steps of h_(t-1) x weight_hh{suffix}^T + gates, with the {(IsLstm ? "LSTM" : "GRU")} cell as the epilogue"
                    + $" ({gates}; states [{steps + 1}][{p.HiddenPadded}] from slot 1)",
                Layer = p,
                InitialH = node.Inputs.Length > 1 ? context.Place(node.Inputs[1]).Offset : -1,
                InitialC = node.Inputs.Length > 2 ? context.Place(node.Inputs[2]).Offset : -1,
            };
            RecurrentTiling.Steps(loop.Tiling, IsLstm);
            if (stack is null)
            {
                context.Add(loop);
            }
            else
            {
                loop.InStack = true;
                stack.Steps.Add(loop);
                if (l == 0)
                {
                    context.Add(stack);
                }
            }
        }

        context.RecurrentLayers[node] = plans;
        context.Add(new RecurrentOutputPlan
        {
            Name = stem + "_Output",
            Comment = $"{layer.Name}: the top layer's states of every step -> output [{steps}, {layer.Out}]",
            Top = plans[plans.Count - 1],
            Output = context.Place(node.Output),
        });
    }

    private void AddPacks(RecurrentLayerPlan p, LoweringContext context, LayerSpec layer, string suffix)
    {
        int gateFloats = p.Groups * p.Gates * RecurrentLayerPlan.Group;
        var input = new RecurrentPack
        {
            Comment = $"{layer.Name}.weight_ih{suffix} [{p.Gates * p.Hidden}, {p.InputSize}] -> [{p.Groups}][{p.InputSize}][{p.Gates}][16]",
            Mode = RecurrentPackKind.Gates, Layer = p, SourceOffset = p.WeightIh, K = p.InputSize, PackedFloats = gateFloats * p.InputSize,
        };
        context.AddPack(input);
        p.PackedInput = input.PackedOffset;

        if (p.BiasIh >= 0)
        {
            var bias = new RecurrentPack
            {
                Comment = $"{layer.Name}.bias_ih{suffix} + bias_hh{suffix}" + (IsLstm ? "" : " (n: bias_ih only)") + $" -> [{p.Groups}][{p.Gates}][16]",
                Mode = RecurrentPackKind.Bias, Layer = p, SourceOffset = p.BiasIh, SecondSourceOffset = p.BiasHh, PackedFloats = gateFloats,
            };
            context.AddPack(bias);
            p.PackedBias = bias.PackedOffset;
            if (!IsLstm)
            {
                var recurrentBias = new RecurrentPack
                {
                    Comment = $"{layer.Name}.bias_hh{suffix} n part -> [{p.HiddenPadded}]",
                    Mode = RecurrentPackKind.RecurrentBias, Layer = p, SourceOffset = p.BiasHh, PackedFloats = p.HiddenPadded,
                };
                context.AddPack(recurrentBias);
                p.PackedRecurrentBias = recurrentBias.PackedOffset;
            }
        }

        var recurrent = new RecurrentPack
        {
            Comment = $"{layer.Name}.weight_hh{suffix} [{p.Gates * p.Hidden}, {p.Hidden}] -> [{p.Groups}][{p.Hidden}][{p.Gates}][16]",
            Mode = RecurrentPackKind.Gates, Layer = p, SourceOffset = p.WeightHh, K = p.Hidden, PackedFloats = gateFloats * p.Hidden,
        };
        context.AddPack(recurrent);
        p.PackedRecurrent = recurrent.PackedOffset;

        var rows = new RecurrentPack
        {
            Comment = $"{layer.Name}.weight_hh{suffix} rows in gate-group order -> [{p.Groups}][{p.Gates}][16][{p.HiddenPadded}], for backward",
            Mode = RecurrentPackKind.Rows, Layer = p, SourceOffset = p.WeightHh, K = p.Hidden, KPadded = p.HiddenPadded, PackedFloats = gateFloats * p.HiddenPadded,
        };
        context.AddPack(rows);
        p.PackedRecurrentRows = rows.PackedOffset;

        var inputRows = new RecurrentPack
        {
            Comment = $"{layer.Name}.weight_ih{suffix} rows in gate-group order -> [{p.Groups}][{p.Gates}][16][{p.InputPadded}], for the input gradient",
            Mode = RecurrentPackKind.Rows, Layer = p, SourceOffset = p.WeightIh, K = p.InputSize, KPadded = p.InputPadded, PackedFloats = gateFloats * p.InputPadded,
        };
        context.AddPack(inputRows);
        p.PackedInputRows = inputRows.PackedOffset;
    }

    /// <summary>
    /// Gradient, top layer first: the output's gradient into the top layer's step gradients; per layer
    /// backpropagation through time (the final-state gradients start it), the weight and bias gradients
    /// summed over batch x steps, and dX = dZ W_ih into the layer below (or the op's input).
    /// </summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
        LayerSpec layer = node.Layer!;
        List<RecurrentLayerPlan> plans = context.RecurrentLayers[node];
        string stem = plans[0].Layer;
        string name = plans[0].KernelStem;
        bool accumulateParameters = context.AccumulateParameters(layer);
        TensorValue? hnGrad = node.StateReaders[0]?.Output.Grad;
        TensorValue? cnGrad = node.StateReaders[1]?.Output.Grad;
        TensorValue? h0Grad = node.Inputs.Length > 1 ? node.Inputs[1].Grad : null;
        TensorValue? c0Grad = node.Inputs.Length > 2 ? node.Inputs[2].Grad : null;
        bool accumulateH0 = h0Grad is not null && context.Accumulate(h0Grad);
        bool accumulateC0 = c0Grad is not null && context.Accumulate(c0Grad);

        context.AddGradient(new RecurrentGradInPlan
        {
            Name = name + "_GradOutput",
            Comment = $"{stem} backward: the output's gradient [{plans[0].Steps}, {layer.Out}] -> the top layer's step gradients",
            Top = plans[plans.Count - 1],
            GradOutput = context.Place(node.Output.Grad!),
        });

        for (int l = plans.Count - 1; l >= 0; l--)
        {
            RecurrentLayerPlan p = plans[l];
            string kernel = $"{name}_L{l}";
            var steps = new RecurrentStepsGradPlan
            {
                Name = kernel + "_StepsGrad",
                CellName = name + "_CellGrad",
                EmitsCell = l == plans.Count - 1,
                Comment = $"{p.Label} backward through time: per step, dZ_(t+1) x weight_hh and the {(IsLstm ? "LSTM" : "GRU")} cell derivatives fused",
                Layer = p,
                FinalHGrad = hnGrad is null ? -1 : context.Place(hnGrad).Offset,
                FinalCGrad = cnGrad is null ? -1 : context.Place(cnGrad).Offset,
                InitialHGrad = h0Grad is null ? -1 : context.Place(h0Grad).Offset,
                InitialCGrad = c0Grad is null ? -1 : context.Place(c0Grad).Offset,
                AccumulateInitialH = accumulateH0,
                AccumulateInitialC = accumulateC0,
            };
            RecurrentTiling.StepsGrad(steps.Tiling);
            context.AddGradient(steps);
            context.AddGradient(new RecurrentWeightGradPlan
            {
                Name = kernel + "_GradWeight",
                Comment = $"{p.Label} backward: weight_ih, weight_hh" + (p.BiasIh >= 0 ? " and bias" : "") + " gradients, summed over batch x steps",
                Layer = p,
                Accumulate = accumulateParameters,
                IhTailScratch = p.InputSize % 16 == 0 ? -1 : context.AllocateScratch(RecurrentWeightGradPlan.TailFloats(p, p.InputSize)),
                HhTailScratch = p.Hidden % 16 == 0 ? -1 : context.AllocateScratch(RecurrentWeightGradPlan.TailFloats(p, p.Hidden)),
            });

            if (l > 0)
            {
                context.AddGradient(new RecurrentInputGradPlan
                {
                    Name = kernel + "_GradInput",
                    Comment = $"{p.Label} backward: dX = dZ x weight_ih, the step gradients of layer {l - 1}",
                    Layer = p,
                    Below = plans[l - 1],
                });
                continue;
            }

            TensorValue? gradInput = node.Input.Grad;
            if (gradInput is null)
            {
                continue;
            }

            context.AddGradient(new RecurrentInputGradPlan
            {
                Name = kernel + "_GradInput",
                Comment = $"{p.Label} backward: dX = dZ x weight_ih -> the input's gradient {context.Place(gradInput).Describe()}",
                Layer = p,
                GradInput = context.Place(gradInput),
                PaddedOffset = node.Recurrent[0].InputGrads!.Storage.Offset,
                Accumulate = context.Accumulate(gradInput),
                InputGradientOnly = gradInput.InputGradientOnly,
            });
        }
    }
}

/// <summary>h_n or c_n of a recurrent op ([layers, H]): a gather of each layer's last state.</summary>
internal sealed class RecurrentStateOp : IOpRule
{
    public OpKind Kind => OpKind.RecurrentState;

    public int[]? InferShape(Node node, DiagnosticBag diagnostics) => new[] { node.Layer!.NumLayers, node.Layer.Out };

    public long Flops(Node node) => 0;

    public void Lower(Node node, LoweringContext context)
    {
        Node recurrent = node.Input.Producer!;
        bool cells = node.Constants[0] == 1;
        var plan = new RecurrentStatePlan
        {
            Name = context.KernelName(node) + (cells ? "_C" : "_H"),
            Comment = $"{node.Layer!.Name}: {(cells ? "c_n" : "h_n")}, the last {(cells ? "cell" : "hidden")} state of each layer -> [{node.Layer.NumLayers}, {node.Layer.Out}]",
            Cells = cells,
            Output = context.Place(node.Output),
        };
        plan.Layers.AddRange(context.RecurrentLayers[recurrent]);
        context.Add(plan);
    }

    /// <summary>Nothing to emit: the recurrent op's backward reads this output's gradient as its final-state gradient.</summary>
    public void LowerGradient(Node node, LoweringContext context)
    {
    }
}

/// <summary>The register tiles of the recurrent kernels per vector width (rows x units of hidden lanes).</summary>
internal static class RecurrentTiling
{
    /// <summary>Input projection: steps x one unit with all its gates (4 x rows accumulators).</summary>
    public static void Projection(RecurrentTiles t)
    {
        t.ByWidth[VectorWidth.V512] = (new RecurrentTile(4, 1), new RecurrentTile(1, 1));
        t.ByWidth[VectorWidth.V256] = (new RecurrentTile(2, 1), new RecurrentTile(1, 1));
        t.ByWidth[VectorWidth.V128] = (new RecurrentTile(2, 1), new RecurrentTile(1, 1));
        t.ByWidth[VectorWidth.Scalar] = (new RecurrentTile(1, 1), new RecurrentTile(1, 1));
    }

    /// <summary>
    /// The step: samples x units, 4 accumulators per unit. Whole sample blocks share each weight vector; a
    /// lone sample takes two units so that 8 independent sums hide the FMA latency.
    /// </summary>
    public static void Steps(RecurrentTiles t, bool lstm)
    {
        t.ByWidth[VectorWidth.V512] = (new RecurrentTile(6, 1), new RecurrentTile(1, 2));
        t.Remainders[VectorWidth.V512] = [new RecurrentTile(4, 1), new RecurrentTile(2, 1)]; // batches of 2^n leave 4 or 2
        t.ByWidth[VectorWidth.V256] = (new RecurrentTile(2, 1), new RecurrentTile(1, 2));
        t.ByWidth[VectorWidth.V128] = (new RecurrentTile(2, 1), new RecurrentTile(1, 2));
        t.ByWidth[VectorWidth.Scalar] = (new RecurrentTile(1, 2), new RecurrentTile(1, 2));

        // Batch 1 streams the weights from L2, which keeps its full rate for one sequential stream better than for
        // two at once (bench/results/lstm-l2.md): a tile reads one group of 16 lanes per k, whose gate vectors are
        // contiguous; on 512-bit vectors that is one LSTM unit, with even and odd k in separate sums (8 sums). A GRU
        // unit has 3 gates (6 sums so split): it keeps two units, which measured as fast.
        t.BatchOne[VectorWidth.V512] = lstm ? new BatchOneTile(1, 2) : new BatchOneTile(2, 1);
        t.BatchOne[VectorWidth.V256] = new BatchOneTile(2, 1);
        t.BatchOne[VectorWidth.V128] = new BatchOneTile(2, 1);
    }

    /// <summary>
    /// The backward step: samples x units, one accumulator each (the transposed product gives dh). Each block of
    /// samples reads all of weight_hh (rows) from L2: on 512-bit vectors blocks of 6 samples by 2 units halve that
    /// stream against 3 by 4 (1.9-2.1 -> 1.5-1.7 ms per layer at batch 64), and the samples left over run in blocks
    /// of 4 and 2 before single samples.
    /// </summary>
    public static void StepsGrad(RecurrentTiles t)
    {
        t.ByWidth[VectorWidth.V512] = (new RecurrentTile(6, 2), new RecurrentTile(1, 8));
        t.Remainders[VectorWidth.V512] = [new RecurrentTile(4, 2), new RecurrentTile(2, 4)];
        t.ByWidth[VectorWidth.V256] = (new RecurrentTile(2, 2), new RecurrentTile(1, 4));
        t.ByWidth[VectorWidth.V128] = (new RecurrentTile(2, 2), new RecurrentTile(1, 4));
        t.ByWidth[VectorWidth.Scalar] = (new RecurrentTile(1, 4), new RecurrentTile(1, 4));
    }
}
