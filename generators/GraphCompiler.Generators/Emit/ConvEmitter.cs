using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints a <see cref="ConvPlan"/>: a loop over output pixels in register tiles of (pixels x channel
/// vectors); for each tap (kh, kw) and input channel, the packed weight vectors are loaded once and
/// multiplied by a broadcast input value per pixel. The epilogue adds the bias, applies the activation
/// and, when a pool is fused, reduces each k x k window before the one store.
/// </summary>
internal static class ConvEmitter
{
    public static void Emit(CodeWriter w, ConvPlan c, VectorSyntax v, string arenaStride)
    {
        TensorPlace input = c.Input, output = c.Output;
        int k = c.PoolKernel;
        int padShift = input.Pad - c.Padding; // stored border beyond what this conv reads
        w.Line($"// {c.Comment}");
        if (v.IsScalar)
        {
            w.Line("// scalar: one output value at a time");
        }
        else
        {
            Tile tile = c.Tiles[v.Width];
            w.Line($"// {v.Suffix} tile: {(k > 1 ? $"{tile.Rows} pooled outputs ({k}x{k * tile.Rows} pixels)" : $"{tile.Rows} pixels")} x {tile.Vectors} vectors of {v.Lanes} channels = {tile.Rows * k * k * tile.Vectors} accumulators");
        }

        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {c.Name}_{v.Suffix}(float* arena, float* parameters, float* packed, int batch)"))
        {
            w.Line($"float* weights = packed + {c.PackedWeightOffset}; // [{c.Kernel}][{c.Kernel}][{c.InChannels}][{c.OutChannelsPadded}]");
            if (c.HasBias)
            {
                w.Line($"float* bias = packed + {c.PackedBiasOffset}; // [{c.OutChannelsPadded}]");
            }

            using (w.Block("for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* x = arena + n * {arenaStride} + {input.Offset}; // {input.Describe()}");
                w.Line($"float* y = arena + n * {arenaStride} + {output.Offset}; // {output.Describe()}");
                using (w.Block($"for (int oh = 0; oh < {output.H}; oh++)"))
                {
                    if (v.IsScalar)
                    {
                        EmitScalarBody(w, c, padShift);
                    }
                    else
                    {
                        Tile tile = c.Tiles[v.Width];
                        int cols = tile.Rows;
                        int full = output.W / cols * cols;
                        using (w.Block($"for (int ow = 0; ow < {full}; ow += {cols})"))
                        {
                            EmitTile(w, c, v, cols, tile.Vectors, padShift);
                        }

                        if (full < output.W)
                        {
                            w.Line($"// the last {output.W - full} output(s) of the row");
                            using (w.Scope())
                            {
                                w.Line($"const int ow = {full};");
                                EmitTile(w, c, v, output.W - full, tile.Vectors, padShift);
                            }
                        }
                    }
                }
            }
        }

        w.Line();
    }

    /// <summary>One register tile at (oh, ow): <paramref name="cols"/> outputs x <paramref name="cb"/> vectors, for every channel block.</summary>
    private static void EmitTile(CodeWriter w, ConvPlan c, VectorSyntax v, int cols, int cb, int padShift)
    {
        TensorPlace input = c.Input, output = c.Output;
        int k = c.PoolKernel;
        int inRow = input.RowStride, inPix = input.ChannelStride;
        int blockChannels = cb * v.Lanes;
        // Conv pixels of the tile, as (row, col) relative to the tile's first conv pixel.
        var pixels = new List<(int R, int C)>();
        for (int r = 0; r < k; r++)
        {
            for (int col = 0; col < cols * k; col++)
            {
                pixels.Add((r, col));
            }
        }

        string convRow = k > 1 ? $"oh * {k * c.Stride}" : $"oh * {c.Stride}";
        string convCol = k > 1 ? $"ow * {k * c.Stride}" : $"ow * {c.Stride}";
        w.Line($"float* xTile = x + (({convRow} + {padShift}) * {inRow / inPix} + {convCol} + {padShift}) * {inPix};");
        w.Line($"float* yTile = y + ((oh + {output.Pad}) * {output.RowStride / output.ChannelStride} + ow + {output.Pad}) * {output.ChannelStride};");
        using (w.Block($"for (int co = 0; co < {c.OutChannelsPadded}; co += {blockChannels})"))
        {
            foreach (var (p, index) in pixels.Select((p, i) => (p, i)))
            {
                w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, cb).Select(j => $"a{index}_{j} = {v.Zero}"))}; // pixel ({p.R}, {p.C})");
            }

            using (w.Block($"for (int kh = 0; kh < {c.Kernel}; kh++)"))
            {
                using (w.Block($"for (int kw = 0; kw < {c.Kernel}; kw++)"))
                {
                    // Pointers advance with the input channel: no index arithmetic in the inner loop.
                    w.Line($"float* xTap = xTile + (kh * {c.Dilation * inRow / inPix} + kw * {c.Dilation}) * {inPix};");
                    w.Line($"float* wTap = weights + (kh * {c.Kernel} + kw) * {c.InChannels * c.OutChannelsPadded} + co;");
                    using (w.Block($"for (int ci = 0; ci < {c.InChannels}; ci++, xTap++, wTap += {c.OutChannelsPadded})"))
                    {
                        for (int j = 0; j < cb; j++)
                        {
                            w.Line($"{v.Type} w{j} = {v.Load($"wTap + {j * v.Lanes}")};");
                        }

                        foreach (var (p, index) in pixels.Select((p, i) => (p, i)))
                        {
                            int offset = p.R * c.Stride * inRow + p.C * c.Stride * inPix;
                            w.Line($"{v.Type} x{index} = {v.Broadcast($"xTap[{offset}]")};");
                            for (int j = 0; j < cb; j++)
                            {
                                w.Line($"a{index}_{j} = {v.MultiplyAdd($"x{index}", $"w{j}", $"a{index}_{j}")};");
                            }
                        }
                    }
                }
            }

            // Epilogue: bias, activation, pool; one store per output pixel and vector.
            for (int j = 0; j < cb; j++)
            {
                string b = c.HasBias ? v.Load($"bias + co + {j * v.Lanes}") : v.Zero;
                w.Line($"{v.Type} b{j} = {b};");
            }

            if (c.Training && c.Activated is { } activated)
            {
                // Training: store every activated pixel (the pool's gradient routes through them), then pool those.
                w.Line($"float* aTile = x - {input.Offset} + {activated.Offset} + ((oh * {k}) * {activated.W} + ow * {k}) * {activated.ChannelStride};");
                foreach (var (p, index) in pixels.Select((p, i) => (p, i)))
                {
                    for (int j = 0; j < cb; j++)
                    {
                        w.Line($"a{index}_{j} = {v.Activate(c.Activation, $"a{index}_{j} + b{j}")};");
                        w.Line(v.Store($"a{index}_{j}", $"aTile + {(p.R * activated.W + p.C) * activated.ChannelStride} + co + {j * v.Lanes}"));
                    }
                }
            }

            for (int q = 0; q < cols; q++)
            {
                int[] window = pixels.Select((p, i) => (p, i)).Where(t => t.p.C / k == q).Select(t => t.i).ToArray();
                for (int j = 0; j < cb; j++)
                {
                    string value;
                    if (c.Training)
                    {
                        value = c.Pool == PoolKind.Max
                            ? window.Skip(1).Aggregate($"a{window[0]}_{j}", (acc, i) => v.Max(acc, $"a{i}_{j}"))
                            : $"({string.Join(" + ", window.Select(i => $"a{i}_{j}"))}) * {CodeWriter.F(1f / (k * k))}";
                    }
                    else if (c.Pool == PoolKind.Max)
                    {
                        string max = window.Skip(1).Aggregate($"a{window[0]}_{j}", (acc, i) => v.Max(acc, $"a{i}_{j}"));
                        value = v.Activate(c.Activation, $"{max} + b{j}"); // max and bias commute; the activation is monotonic
                    }
                    else if (c.Pool == PoolKind.Avg)
                    {
                        string sum = string.Join(" + ", window.Select(i => v.Activate(c.Activation, $"a{i}_{j} + b{j}")));
                        value = $"({sum}) * {CodeWriter.F(1f / (k * k))}";
                    }
                    else
                    {
                        value = v.Activate(c.Activation, $"a{window[0]}_{j} + b{j}");
                    }

                    w.Line(v.Store(value, $"yTile + {q * output.ChannelStride} + co + {j * v.Lanes}"));
                }
            }
        }
    }

    /// <summary>The plain loop nest: one output (pooled) value at a time over the padded channels.</summary>
    private static void EmitScalarBody(CodeWriter w, ConvPlan c, int padShift)
    {
        TensorPlace input = c.Input, output = c.Output;
        int k = c.PoolKernel;
        int inRowPixels = input.RowStride / input.ChannelStride;
        using (w.Block($"for (int ow = 0; ow < {output.W}; ow++)"))
        {
            using (w.Block($"for (int co = 0; co < {c.OutChannelsPadded}; co++)"))
            {
                w.Line($"float result = {(c.Pool == PoolKind.Max ? "float.NegativeInfinity" : "0f")};");
                using (w.Block($"for (int r = 0; r < {k}; r++)"))
                using (w.Block($"for (int s = 0; s < {k}; s++)"))
                {
                    w.Line("float sum = 0f;");
                    w.Line($"float* xPixel = x + ((oh * {k} + r) * {c.Stride} + {padShift}) * {inRowPixels * input.ChannelStride} + ((ow * {k} + s) * {c.Stride} + {padShift}) * {input.ChannelStride};");
                    using (w.Block($"for (int kh = 0; kh < {c.Kernel}; kh++)"))
                    using (w.Block($"for (int kw = 0; kw < {c.Kernel}; kw++)"))
                    using (w.Block($"for (int ci = 0; ci < {c.InChannels}; ci++)"))
                    {
                        w.Line($"sum += xPixel[(kh * {c.Dilation * inRowPixels} + kw * {c.Dilation}) * {input.ChannelStride} + ci] * weights[((kh * {c.Kernel} + kw) * {c.InChannels} + ci) * {c.OutChannelsPadded} + co];");
                    }

                    string biased = c.HasBias ? "sum + bias[co]" : "sum";
                    if (c.Training && c.Activated is { } activated)
                    {
                        // Training: keep the activated value (the pool's gradient routes through it), pool those.
                        w.Line($"float activated = {VectorSyntax.ActivateScalar(c.Activation, biased)};");
                        w.Line($"x[{activated.Offset - input.Offset} + ((oh * {k} + r) * {activated.W} + ow * {k} + s) * {activated.ChannelStride} + co] = activated;");
                        w.Line(c.Pool == PoolKind.Max
                            ? "result = global::System.MathF.Max(result, activated);"
                            : $"result += activated * {CodeWriter.F(1f / (k * k))};");
                    }
                    else
                    {
                    switch (c.Pool)
                    {
                        case PoolKind.Max:
                            w.Line($"result = global::System.MathF.Max(result, {biased});");
                            break;
                        case PoolKind.Avg:
                            w.Line($"result += {VectorSyntax.ActivateScalar(c.Activation, biased)} * {CodeWriter.F(1f / (k * k))};");
                            break;
                        default:
                            w.Line($"result = {VectorSyntax.ActivateScalar(c.Activation, biased)};");
                            break;
                    }
                    }
                }

                string final = c.Pool == PoolKind.Max && !c.Training ? VectorSyntax.ActivateScalar(c.Activation, "result") : "result";
                w.Line($"y[((oh + {output.Pad}) * {output.RowStride / output.ChannelStride} + ow + {output.Pad}) * {output.ChannelStride} + co] = {final};");
            }
        }
    }
}
