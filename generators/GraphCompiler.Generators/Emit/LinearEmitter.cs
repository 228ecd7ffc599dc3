using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints a <see cref="LinearPlan"/>. Loop order: output-vector tiles, then blocks of K (a block of the
/// packed weights, K-block x tile width, stays in L1), then sample tiles. Each step of K loads the
/// tile's weight vectors once and multiplies them by one broadcast input value per sample. Partial sums
/// of a K block go through the output row; the bias starts the first block and the activation ends the last.
/// </summary>
internal static class LinearEmitter
{
    public static void Emit(CodeWriter w, LinearPlan l, VectorSyntax v, string arenaStride)
    {
        w.Line($"// {l.Comment}");
        if (v.IsScalar)
        {
            w.Line("// scalar: one output at a time");
        }
        else
        {
            List<Tile> tiles = l.RowTiles[v.Width];
            w.Line($"// {v.Suffix} tiles (samples x vectors of {v.Lanes} outputs): {string.Join(", ", tiles.Select(t => $"{t.Rows} x {t.Vectors}"))}"
                + (l.KBlock < l.DotLength ? $"; K in blocks of {l.KBlock}" : ""));
        }

        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {l.Name}_{v.Suffix}(float* arena, float* parameters, float* packed, int batch)"))
        {
            w.Line($"float* weights = packed + {l.PackedWeightOffset}; // [{l.DotLength}][{l.OutFeaturesPadded}]{(l.ReadsNhwc ? ", rows in the input's NHWC order" : "")}");
            if (l.HasBias)
            {
                w.Line($"float* bias = packed + {l.PackedBiasOffset}; // [{l.OutFeaturesPadded}]");
            }

            w.Line($"float* x = arena + {l.Input.Offset}; // {l.Input.Describe()}, one row per sample");
            w.Line($"float* y = arena + {l.Output.Offset}; // {l.Output.Describe()}, one row per sample");
            if (v.IsScalar)
            {
                EmitScalar(w, l, arenaStride);
            }
            else
            {
                EmitVector(w, l, v, arenaStride);
            }
        }

        w.Line();
    }

    private static void EmitScalar(CodeWriter w, LinearPlan l, string arenaStride)
    {
        using (w.Block("for (int n = 0; n < batch; n++)"))
        using (w.Block($"for (int o = 0; o < {l.OutFeatures}; o++)"))
        {
            w.Line($"float* xRow = x + n * {arenaStride};");
            w.Line($"float sum = {(l.HasBias ? "bias[o]" : "0f")};");
            using (w.Block($"for (int k = 0; k < {l.DotLength}; k++)"))
            {
                w.Line($"sum += xRow[k] * weights[k * {l.OutFeaturesPadded} + o];");
            }

            w.Line($"y[n * {arenaStride} + o] = {VectorSyntax.ActivateScalar(l.Activation, "sum")};");
        }
    }

    private static void EmitVector(CodeWriter w, LinearPlan l, VectorSyntax v, string arenaStride)
    {
        List<Tile> tiles = l.RowTiles[v.Width];
        int vectors = l.OutFeaturesPadded / v.Lanes;
        int tileVectors = tiles[0].Vectors;
        int full = vectors / tileVectors * tileVectors;
        bool blocked = l.KBlock < l.DotLength;
        if (full > 0)
        {
            using (w.Block($"for (int o = 0; o < {full * v.Lanes}; o += {tileVectors * v.Lanes})"))
            {
                EmitKBlocks(w, l, v, tiles, tileVectors, blocked, arenaStride);
            }
        }

        if (full < vectors)
        {
            w.Line($"// the last {vectors - full} vector(s) of outputs");
            using (w.Scope())
            {
                w.Line($"const int o = {full * v.Lanes};");
                EmitKBlocks(w, l, v, tiles, vectors - full, blocked, arenaStride);
            }
        }
    }

    private static void EmitKBlocks(CodeWriter w, LinearPlan l, VectorSyntax v, List<Tile> tiles, int tileVectors, bool blocked, string arenaStride)
    {
        if (blocked)
        {
            using (w.Block($"for (int k0 = 0; k0 < {l.DotLength}; k0 += {l.KBlock})"))
            {
                w.Line($"int k1 = global::System.Math.Min(k0 + {l.KBlock}, {l.DotLength});");
                w.Line($"bool first = k0 == 0, last = k1 == {l.DotLength};");
                EmitSampleTiles(w, l, v, tiles, tileVectors, blocked, arenaStride);
            }
        }
        else
        {
            EmitSampleTiles(w, l, v, tiles, tileVectors, blocked, arenaStride);
        }
    }

    private static void EmitSampleTiles(CodeWriter w, LinearPlan l, VectorSyntax v, List<Tile> tiles, int tileVectors, bool blocked, string arenaStride)
    {
        w.Line("int n = 0;");
        foreach (Tile tile in tiles)
        {
            string loop = tile.Rows == 1 ? "for (; n < batch; n++)" : $"for (; n + {tile.Rows} <= batch; n += {tile.Rows})";
            using (w.Block(loop))
            {
                EmitTile(w, l, v, tile.Rows, tileVectors, blocked, arenaStride);
            }
        }
    }

    private static void EmitTile(CodeWriter w, LinearPlan l, VectorSyntax v, int rows, int vectors, bool blocked, string arenaStride)
    {
        string kStart = blocked ? "k0" : "0", kEnd = blocked ? "k1" : l.DotLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < rows; i++)
        {
            w.Line($"float* x{i} = x + (n + {i}) * {arenaStride}, y{i} = y + (n + {i}) * {arenaStride} + o;");
        }

        for (int i = 0; i < rows; i++)
        {
            var inits = Enumerable.Range(0, vectors).Select(j =>
            {
                string start = l.HasBias ? v.Load($"bias + o + {j * v.Lanes}") : v.Zero;
                return blocked ? $"a{i}_{j} = first ? {start} : {v.Load($"y{i} + {j * v.Lanes}")}" : $"a{i}_{j} = {start}";
            });
            w.Line($"{v.Type} {string.Join(", ", inits)};");
        }

        w.Line($"float* wk = weights + {kStart} * {l.OutFeaturesPadded} + o;");
        using (w.Block($"for (int k = {kStart}; k < {kEnd}; k++, wk += {l.OutFeaturesPadded})"))
        {
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{v.Type} w{j} = {v.Load($"wk + {j * v.Lanes}")};");
            }

            for (int i = 0; i < rows; i++)
            {
                w.Line($"{v.Type} x{i}k = {v.Broadcast($"x{i}[k]")};");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"a{i}_{j} = {v.MultiplyAdd($"x{i}k", $"w{j}", $"a{i}_{j}")};");
                }
            }
        }

        if (blocked && l.Activation != Graph.Activation.None)
        {
            using (w.Block("if (last)"))
            {
                EmitStores(w, v, rows, vectors, l.Activation);
            }

            using (w.Block("else"))
            {
                EmitStores(w, v, rows, vectors, Graph.Activation.None);
            }
        }
        else
        {
            EmitStores(w, v, rows, vectors, l.Activation);
        }
    }

    private static void EmitStores(CodeWriter w, VectorSyntax v, int rows, int vectors, Graph.Activation activation)
    {
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < vectors; j++)
            {
                w.Line(v.Store(v.Activate(activation, $"a{i}_{j}"), $"y{i} + {j * v.Lanes}"));
            }
        }
    }
}
