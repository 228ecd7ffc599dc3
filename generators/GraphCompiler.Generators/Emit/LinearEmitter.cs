using System.Linq;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints a <see cref="LinearPlan"/>: dot products along the input features, in register tiles of
/// (samples x outputs) vector accumulators, reduced once at the end; bias and activation in the epilogue.
/// Output blocks are the outer loop so a block of weight rows stays in cache while the batch streams by.
/// </summary>
internal static class LinearEmitter
{
    public static void Emit(CodeWriter w, LinearPlan l, VectorSyntax v, string arenaStride)
    {
        w.Line($"// {l.Comment}");
        Tile tile = v.IsScalar ? new Tile(1, 1) : l.Tiles[v.Width];
        int single = v.IsScalar ? 1 : System.Math.Min(l.OutFeatures, 2 * tile.Vectors);
        if (!v.IsScalar)
        {
            w.Line($"// {v.Suffix} tiles: {tile.Rows} samples x {tile.Vectors} outputs, and 1 sample x {single} outputs for the rest of the batch");
        }

        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {l.Name}_{v.Suffix}(float* arena, float* parameters, float* packed, int batch)"))
        {
            string source = l.WeightPacked ? "packed" : "parameters";
            w.Line($"float* weights = {source} + {l.WeightOffset}; // [{l.OutFeatures}][{l.DotLength}]{(l.WeightPacked ? ", columns in the input's NHWC order" : "")}");
            if (l.BiasOffset >= 0)
            {
                w.Line($"float* bias = parameters + {l.BiasOffset}; // [{l.OutFeatures}]");
            }

            w.Line($"float* x = arena + {l.Input.Offset}; // {l.Input.Describe()}, one row per sample");
            w.Line($"float* y = arena + {l.Output.Offset}; // {l.Output.Describe()}, one row per sample");
            w.Line("int n = 0;");
            if (v.IsScalar)
            {
                using (w.Block("for (; n < batch; n++)"))
                using (w.Block($"for (int o = 0; o < {l.OutFeatures}; o++)"))
                {
                    w.Line($"float* xRow = x + n * {arenaStride};");
                    w.Line($"float* wRow = weights + o * {l.DotLength};");
                    w.Line("float sum = 0f;");
                    using (w.Block($"for (int k = 0; k < {l.DotLength}; k++)"))
                    {
                        w.Line("sum += xRow[k] * wRow[k];");
                    }

                    w.Line($"y[n * {arenaStride} + o] = {VectorSyntax.ActivateScalar(l.Activation, l.BiasOffset >= 0 ? "sum + bias[o]" : "sum")};");
                }
            }
            else
            {
                if (tile.Rows > 1)
                {
                    using (w.Block($"for (; n + {tile.Rows} <= batch; n += {tile.Rows})"))
                    {
                        EmitOutputLoop(w, l, v, tile.Rows, tile.Vectors, arenaStride);
                    }
                }

                using (w.Block("for (; n < batch; n++)"))
                {
                    EmitOutputLoop(w, l, v, 1, single, arenaStride);
                }
            }
        }

        w.Line();
    }

    private static void EmitOutputLoop(CodeWriter w, LinearPlan l, VectorSyntax v, int rows, int outputs, string arenaStride)
    {
        int full = l.OutFeatures / outputs * outputs;
        if (full > 0)
        {
            using (w.Block($"for (int o = 0; o < {full}; o += {outputs})"))
            {
                EmitTile(w, l, v, rows, outputs, arenaStride);
            }
        }

        if (full < l.OutFeatures)
        {
            w.Line($"// the last {l.OutFeatures - full} output(s)");
            using (w.Scope())
            {
                w.Line($"const int o = {full};");
                EmitTile(w, l, v, rows, l.OutFeatures - full, arenaStride);
            }
        }
    }

    private static void EmitTile(CodeWriter w, LinearPlan l, VectorSyntax v, int rows, int outputs, string arenaStride)
    {
        int lanes = v.Lanes;
        int vectorEnd = l.DotLength / lanes * lanes;
        for (int i = 0; i < rows; i++)
        {
            w.Line($"float* x{i} = x + (n + {i}) * {arenaStride};");
        }

        for (int j = 0; j < outputs; j++)
        {
            w.Line($"float* w{j} = weights + (o + {j}) * {l.DotLength};");
        }

        for (int i = 0; i < rows; i++)
        {
            w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, outputs).Select(j => $"a{i}_{j} = {v.Zero}"))};");
        }

        if (vectorEnd > 0)
        {
            using (w.Block($"for (int k = 0; k < {vectorEnd}; k += {lanes})"))
            {
                for (int i = 0; i < rows; i++)
                {
                    w.Line($"{v.Type} xv{i} = {v.Load($"x{i} + k")};");
                }

                for (int j = 0; j < outputs; j++)
                {
                    w.Line($"{v.Type} wv{j} = {v.Load($"w{j} + k")};");
                    for (int i = 0; i < rows; i++)
                    {
                        w.Line($"a{i}_{j} = {v.MultiplyAdd($"xv{i}", $"wv{j}", $"a{i}_{j}")};");
                    }
                }
            }
        }

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < outputs; j++)
            {
                w.Line($"float s{i}_{j} = {v.Class}.Sum(a{i}_{j});");
            }
        }

        if (vectorEnd < l.DotLength)
        {
            using (w.Block($"for (int k = {vectorEnd}; k < {l.DotLength}; k++)"))
            {
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < outputs; j++)
                    {
                        w.Line($"s{i}_{j} += x{i}[k] * w{j}[k];");
                    }
                }
            }
        }

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < outputs; j++)
            {
                string sum = l.BiasOffset >= 0 ? $"s{i}_{j} + bias[o + {j}]" : $"s{i}_{j}";
                w.Line($"y[(n + {i}) * {arenaStride} + o + {j}] = {VectorSyntax.ActivateScalar(l.Activation, sum)};");
            }
        }
    }
}
