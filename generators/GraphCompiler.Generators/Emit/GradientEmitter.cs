using System.Collections.Generic;
using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints the backward kernels. The hot ones (convolution and linear gradients) are register-tiled per
/// vector width like their forward kernels; the light ones (activations, pools that were not fused,
/// softmax, copies) are plain loops shared by every width.
/// </summary>
internal static class GradientEmitter
{
    public const string Signature = "(float* arena, float* parameters, float* packed, float* grads, float* scratch, int batch)";
    public const string Arguments = "(arena, parameters, packed, grads, scratch, batch)";
    private const string Header = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

    public static bool PerWidth(KernelPlan k) => k is ConvGradPrePlan or ConvGradWeightPlan or ConvGradInputPlan or LinearGradWeightPlan or LinearGradInputPlan
        or RecurrentStepsGradPlan or RecurrentWeightGradPlan or RecurrentInputGradPlan;

    private static string Assign(bool accumulate) => accumulate ? "+=" : "=";

    private static string Sample(string arena, string stride, TensorPlace t) => $"{arena} + n * {stride} + {t.Offset}";

    public static void EmitGradCopyIn(CodeWriter w, GradCopyInPlan c, string stride)
    {
        TensorPlace d = c.Destination;
        w.Line($"// {c.Comment}");
        using (w.Block("internal static unsafe void GradCopyIn(float* outputGrad, float* arena, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = outputGrad + n * {c.OutputSize};");
            w.Line($"float* target = {Sample("arena", stride, d)};");
            w.Line($"new global::System.Span<float>(target, {LoweringContext.RoundUp(d.Floats, 16)}).Clear(); // padding lanes and borders read as zero");
            if (d.Kind == StorageKind.Flat)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(source, {c.OutputSize}).CopyTo(new global::System.Span<float>(target, {c.OutputSize}));");
            }
            else
            {
                SimpleKernelEmitter.EmitChwToNhwc(w, d, "source", "target");
            }
        }

        w.Line();
    }

    public static void EmitGradCopyOut(CodeWriter w, GradCopyOutPlan c, string stride)
    {
        TensorPlace s = c.Source;
        w.Line($"// {c.Comment}");
        using (w.Block("internal static unsafe void GradCopyOut(float* arena, float* inputGrad, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = {Sample("arena", stride, s)};");
            w.Line($"float* target = inputGrad + n * {c.InputSize};");
            if (s.Kind == StorageKind.Flat)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(source, {c.InputSize}).CopyTo(new global::System.Span<float>(target, {c.InputSize}));");
            }
            else
            {
                SimpleKernelEmitter.EmitNhwcToChw(w, s, "source", "target");
            }
        }

        w.Line();
    }

    // ---- Convolution ----------------------------------------------------------------------------

    public static void EmitConvGradPre(CodeWriter w, ConvGradPrePlan g, VectorSyntax v, string stride)
    {
        ConvPlan f = g.Forward;
        int k = f.PoolKernel;
        w.Line($"// {g.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {g.Name}_{v.Suffix}{Signature}"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* activated = {Sample("arena", stride, g.Activated)}; // {g.Activated.Describe()}");
            w.Line($"float* gradOut = {Sample("arena", stride, g.GradOutput)}; // {g.GradOutput.Describe()}");
            w.Line($"float* gradPre = {Sample("arena", stride, g.GradPre)}; // {g.GradPre.Describe()}");
            if (f.Pool != PoolKind.None)
            {
                w.Line($"float* pooled = {Sample("arena", stride, f.Output)}; // {f.Output.Describe()}");
            }

            using (w.Block($"for (int h = 0; h < {f.ConvH}; h++)"))
            using (w.Block($"for (int x = 0; x < {f.ConvW}; x++)"))
            {
                w.Line($"float* a = activated + {SimpleKernelEmitter.Pixel(g.Activated, "h", "x")};");
                w.Line($"float* z = gradPre + {SimpleKernelEmitter.Pixel(g.GradPre, "h", "x")};");
                if (f.Pool != PoolKind.None)
                {
                    w.Line($"float* gp = gradOut + {SimpleKernelEmitter.Pixel(g.GradOutput, $"h / {k}", $"x / {k}")};");
                    w.Line($"float* pp = pooled + {SimpleKernelEmitter.Pixel(f.Output, $"h / {k}", $"x / {k}")};");
                }
                else
                {
                    w.Line($"float* gp = gradOut + {SimpleKernelEmitter.Pixel(g.GradOutput, "h", "x")};");
                }

                int step = v.IsScalar ? 1 : v.Lanes;
                using (w.Block($"for (int c = 0; c < {f.OutChannelsPadded}; c += {step})"))
                {
                    if (v.IsScalar)
                    {
                        w.Line("float av = a[c], gv = gp[c];");
                        if (f.Pool == PoolKind.Max)
                        {
                            w.Line("gv = av == pp[c] ? gv : 0f; // to the window's maximum");
                        }
                        else if (f.Pool == PoolKind.Avg)
                        {
                            w.Line($"gv *= {CodeWriter.F(1f / (k * k))};");
                        }

                        w.Line($"z[c] = {ScalarDerivative(f.Activation, "gv", "av")};");
                    }
                    else
                    {
                        w.Line($"{v.Type} av = {v.Load("a + c")}, gv = {v.Load("gp + c")};");
                        if (f.Pool == PoolKind.Max)
                        {
                            w.Line($"gv = {v.Class}.ConditionalSelect({v.Class}.Equals(av, {v.Load("pp + c")}), gv, {v.Zero}); // to the window's maximum");
                        }
                        else if (f.Pool == PoolKind.Avg)
                        {
                            w.Line($"gv *= {v.Broadcast(CodeWriter.F(1f / (k * k)))};");
                        }

                        w.Line(v.Store(VectorDerivative(v, f.Activation, "gv", "av"), "z + c"));
                    }
                }
            }
        }

        w.Line();
    }

    /// <summary>The gradient times the activation's derivative, written with the activation's output y.</summary>
    public static string ScalarDerivative(Activation activation, string g, string y) => activation switch
    {
        Activation.Relu => $"{y} > 0f ? {g} : 0f",
        Activation.Tanh => $"{g} * (1f - {y} * {y})",
        Activation.Sigmoid => $"{g} * {y} * (1f - {y})",
        _ => g,
    };

    private static string VectorDerivative(VectorSyntax v, Activation activation, string g, string y) => activation switch
    {
        Activation.Relu => $"{v.Class}.ConditionalSelect({v.Class}.GreaterThan({y}, {v.Zero}), {g}, {v.Zero})",
        Activation.Tanh => $"{g} * ({v.Type}.One - {y} * {y})",
        Activation.Sigmoid => $"{g} * {y} * ({v.Type}.One - {y})",
        _ => g,
    };

    public static void EmitConvGradWeight(CodeWriter w, ConvGradWeightPlan g, VectorSyntax v, string stride)
    {
        ConvPlan f = g.Forward;
        TensorPlace x = f.Input;
        int lanes = v.IsScalar ? 1 : v.Lanes;
        int coP = f.OutChannelsPadded, cin = f.InChannels, kk = f.Kernel;
        int rowPixels = x.RowStride / x.ChannelStride;
        int shift = x.Pad - f.Padding;
        int packedFloats = kk * kk * cin * coP;
        w.Line($"// {g.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {g.Name}_{v.Suffix}{Signature}"))
        {
            w.Line($"float* dw = scratch + {g.ScratchOffset}; // [{kk}][{kk}][{cin}][{coP}] then the bias [{coP}]: sums over the batch, in the packed order");
            w.Line($"new global::System.Span<float>(dw, {packedFloats}).Clear();");
            using (w.Block("for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* x = {Sample("arena", stride, x)}; // {x.Describe()}");
                w.Line($"float* dz = {Sample("arena", stride, g.GradPre)}; // {g.GradPre.Describe()}");
                if (v.IsScalar)
                {
                    using (w.Block($"for (int kh = 0; kh < {kk}; kh++)"))
                    using (w.Block($"for (int kw = 0; kw < {kk}; kw++)"))
                    using (w.Block($"for (int ci = 0; ci < {cin}; ci++)"))
                    using (w.Block($"for (int co = 0; co < {coP}; co++)"))
                    {
                        w.Line("float sum = 0f;");
                        using (w.Block($"for (int oh = 0; oh < {f.ConvH}; oh++)"))
                        using (w.Block($"for (int ow = 0; ow < {f.ConvW}; ow++)"))
                        {
                            w.Line($"sum += x[((oh * {f.Stride} + kh * {f.Dilation} + {shift}) * {rowPixels} + ow * {f.Stride} + kw * {f.Dilation} + {shift}) * {x.ChannelStride} + ci] * dz[(oh * {f.ConvW} + ow) * {coP} + co];");
                        }

                        w.Line($"dw[((kh * {kk} + kw) * {cin} + ci) * {coP} + co] += sum;");
                    }
                }
                else
                {
                    EmitConvGradWeightTiles(w, g, v, rowPixels, shift);
                }
            }

            // Bias: the sum of the pre-activation gradient over the batch and the pixels, a whole vector
            // (one cache line) of channels at a time so dZ is read once.
            if (g.BiasGradOffset >= 0)
            {
                int step = v.IsScalar ? 1 : v.Lanes;
                using (w.Block($"for (int co = 0; co < {coP}; co += {step})"))
                {
                    w.Line(v.IsScalar ? "float sum = 0f;" : $"{v.Type} sum = {v.Zero};");
                    using (w.Block("for (int n = 0; n < batch; n++)"))
                    {
                        w.Line($"float* dz = {Sample("arena", stride, g.GradPre)} + co;");
                        using (w.Block($"for (int p = 0; p < {f.ConvH * f.ConvW}; p++)"))
                        {
                            w.Line(v.IsScalar ? $"sum += dz[p * {coP}];" : $"sum += {v.Load($"dz + p * {coP}")};");
                        }
                    }

                    w.Line(v.IsScalar ? $"dw[{packedFloats} + co] = sum;" : v.Store("sum", $"dw + {packedFloats} + co"));
                }

                using (w.Block($"for (int co = 0; co < {f.OutChannels}; co++)"))
                {
                    w.Line($"grads[{g.BiasGradOffset} + co] {Assign(g.Accumulate)} dw[{packedFloats} + co];");
                }
            }

            if (!g.Accumulate)
            {
                PackEmitter.EmitConvUnpack(w, f.OutChannels, coP, cin, kk * kk, "dw", $"grads + {g.WeightGradOffset}");
            }
            else
            {
                w.Line("// Unpack into PyTorch's [out][in][kh][kw].");
                using (w.Block($"for (int co = 0; co < {f.OutChannels}; co++)"))
                using (w.Block($"for (int ci = 0; ci < {cin}; ci++)"))
                using (w.Block($"for (int kh = 0; kh < {kk}; kh++)"))
                using (w.Block($"for (int kw = 0; kw < {kk}; kw++)"))
                {
                    w.Line($"grads[{g.WeightGradOffset} + ((co * {cin} + ci) * {kk} + kh) * {kk} + kw] += dw[((kh * {kk} + kw) * {cin} + ci) * {coP} + co];");
                }
            }
        }

        w.Line();
    }

    /// <summary>
    /// Register tiles of (taps x input channels) x (output-channel vectors), each summed over one sample's
    /// pixels and added into the scratch. Few (tap, channel) pairs (a first layer) are unrolled with
    /// constant offsets; many are looped over the taps with blocks of channels.
    /// </summary>
    private static void EmitConvGradWeightTiles(CodeWriter w, ConvGradWeightPlan g, VectorSyntax v, int rowPixels, int shift)
    {
        ConvPlan f = g.Forward;
        TensorPlace x = f.Input;
        int coP = f.OutChannelsPadded, cin = f.InChannels, kk = f.Kernel;
        int budget = v.Width == VectorWidth.V512 ? 16 : 8;
        int vectors = coP / v.Lanes;
        int cb = Enumerable.Range(1, 4).Reverse().First(c => vectors % c == 0 && c <= budget);
        int rows = System.Math.Max(1, budget / cb);
        int pairs = kk * kk * cin;

        using (w.Block($"for (int co = 0; co < {coP}; co += {cb * v.Lanes})"))
        {
            if (pairs <= 4 * rows)
            {
                // Unrolled: every (tap, channel) pair with a constant offset.
                var all = new List<(int Offset, int Packed)>();
                for (int kh = 0; kh < kk; kh++)
                {
                    for (int kw = 0; kw < kk; kw++)
                    {
                        for (int ci = 0; ci < cin; ci++)
                        {
                            all.Add(((kh * f.Dilation * rowPixels + kw * f.Dilation) * x.ChannelStride + ci, ((kh * kk + kw) * cin + ci) * coP));
                        }
                    }
                }

                for (int start = 0; start < all.Count; start += rows)
                {
                    w.Line($"// (tap, channel) pairs {start} to {System.Math.Min(start + rows, all.Count) - 1}");
                    using (w.Scope())
                    {
                        EmitConvGradWeightTile(w, f, v, all.Skip(start).Take(rows).ToList(), cb, rowPixels, shift, "x", "dw + co");
                    }
                }
            }
            else
            {
                int block = Enumerable.Range(1, rows).Reverse().First(r => cin % r == 0);
                using (w.Block($"for (int kh = 0; kh < {kk}; kh++)"))
                using (w.Block($"for (int kw = 0; kw < {kk}; kw++)"))
                using (w.Block($"for (int ci = 0; ci < {cin}; ci += {block})"))
                {
                    w.Line($"float* xt = x + (kh * {f.Dilation * rowPixels} + kw * {f.Dilation}) * {x.ChannelStride} + ci;");
                    w.Line($"float* dwt = dw + ((kh * {kk} + kw) * {cin} + ci) * {coP} + co;");
                    var pairsOfBlock = Enumerable.Range(0, block).Select(i => (i, i * coP)).ToList();
                    EmitConvGradWeightTile(w, f, v, pairsOfBlock, cb, rowPixels, shift, "xt", "dwt");
                }
            }
        }
    }

    private static void EmitConvGradWeightTile(CodeWriter w, ConvPlan f, VectorSyntax v, List<(int Offset, int Packed)> pairs, int cb, int rowPixels, int shift, string xBase, string dwBase)
    {
        int coP = f.OutChannelsPadded;
        for (int r = 0; r < pairs.Count; r++)
        {
            w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, cb).Select(j => $"a{r}_{j} = {v.Load($"{dwBase} + {pairs[r].Packed + j * v.Lanes}")}"))};");
        }

        using (w.Block($"for (int oh = 0; oh < {f.ConvH}; oh++)"))
        {
            w.Line($"float* xp = {xBase} + ((oh * {f.Stride} + {shift}) * {rowPixels} + {shift}) * {f.Input.ChannelStride};");
            w.Line($"float* zp = dz + oh * {f.ConvW * coP} + co;");
            using (w.Block($"for (int ow = 0; ow < {f.ConvW}; ow++, xp += {f.Stride * f.Input.ChannelStride}, zp += {coP})"))
            {
                for (int j = 0; j < cb; j++)
                {
                    w.Line($"{v.Type} z{j} = {v.Load($"zp + {j * v.Lanes}")};");
                }

                for (int r = 0; r < pairs.Count; r++)
                {
                    w.Line($"{v.Type} x{r} = {v.Broadcast($"xp[{pairs[r].Offset}]")};");
                    for (int j = 0; j < cb; j++)
                    {
                        w.Line($"a{r}_{j} = {v.MultiplyAdd($"x{r}", $"z{j}", $"a{r}_{j}")};");
                    }
                }
            }
        }

        for (int r = 0; r < pairs.Count; r++)
        {
            for (int j = 0; j < cb; j++)
            {
                w.Line(v.Store($"a{r}_{j}", $"{dwBase} + {pairs[r].Packed + j * v.Lanes}"));
            }
        }
    }

    public static void EmitConvGradInput(CodeWriter w, ConvGradInputPlan g, VectorSyntax v, string stride)
    {
        ConvPlan f = g.Forward;
        TensorPlace dx = g.GradInput;
        int coP = f.OutChannelsPadded, cinP = g.InChannelsPadded, kk = f.Kernel;
        int rowPixels = dx.RowStride / dx.ChannelStride;
        int shift = dx.Pad - f.Padding;
        w.Line($"// {g.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {g.Name}_{v.Suffix}{Signature}"))
        {
            w.Line($"float* wt = packed + {g.PackedOffset}; // [{kk}][{kk}][{f.OutChannels}][{cinP}]");
            using (w.Block("for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* dz = {Sample("arena", stride, g.GradPre)}; // {g.GradPre.Describe()}");
                w.Line($"float* dx = {Sample("arena", stride, dx)}; // {dx.Describe()}");
                if (!g.Accumulate)
                {
                    w.Line($"new global::System.Span<float>(dx, {dx.Floats}).Clear(); // the taps below add into it");
                }

                if (v.IsScalar)
                {
                    using (w.Block($"for (int oh = 0; oh < {f.ConvH}; oh++)"))
                    using (w.Block($"for (int ow = 0; ow < {f.ConvW}; ow++)"))
                    using (w.Block($"for (int kh = 0; kh < {kk}; kh++)"))
                    using (w.Block($"for (int kw = 0; kw < {kk}; kw++)"))
                    {
                        w.Line($"float* target = dx + ((oh * {f.Stride} + kh * {f.Dilation} + {shift}) * {rowPixels} + ow * {f.Stride} + kw * {f.Dilation} + {shift}) * {cinP};");
                        w.Line($"float* wtap = wt + (kh * {kk} + kw) * {f.OutChannels * cinP};");
                        using (w.Block($"for (int ci = 0; ci < {f.InChannels}; ci++)"))
                        {
                            w.Line("float sum = 0f;");
                            using (w.Block($"for (int co = 0; co < {f.OutChannels}; co++)"))
                            {
                                w.Line($"sum += dz[(oh * {f.ConvW} + ow) * {coP} + co] * wtap[co * {cinP} + ci];");
                            }

                            w.Line("target[ci] += sum;");
                        }
                    }
                }
                else
                {
                    int budget = v.Width == VectorWidth.V512 ? 16 : 8;
                    int vectors = cinP / v.Lanes;
                    int cv = Enumerable.Range(1, 4).Reverse().First(c => vectors % c == 0 && c <= budget);
                    int tp = System.Math.Max(1, System.Math.Min(f.ConvW, budget / cv));
                    int full = f.ConvW / tp * tp;
                    using (w.Block($"for (int oh = 0; oh < {f.ConvH}; oh++)"))
                    {
                        using (w.Block($"for (int ow = 0; ow < {full}; ow += {tp})"))
                        {
                            EmitConvGradInputTile(w, g, v, tp, cv, rowPixels, shift);
                        }

                        if (full < f.ConvW)
                        {
                            w.Line($"// the last {f.ConvW - full} pixel(s) of the row");
                            using (w.Scope())
                            {
                                w.Line($"const int ow = {full};");
                                EmitConvGradInputTile(w, g, v, f.ConvW - full, cv, rowPixels, shift);
                            }
                        }
                    }
                }
            }
        }

        w.Line();
    }

    private static void EmitConvGradInputTile(CodeWriter w, ConvGradInputPlan g, VectorSyntax v, int tp, int cv, int rowPixels, int shift)
    {
        ConvPlan f = g.Forward;
        int coP = f.OutChannelsPadded, cinP = g.InChannelsPadded, kk = f.Kernel;
        using (w.Block($"for (int ci = 0; ci < {cinP}; ci += {cv * v.Lanes})"))
        using (w.Block($"for (int kh = 0; kh < {kk}; kh++)"))
        using (w.Block($"for (int kw = 0; kw < {kk}; kw++)"))
        {
            for (int t = 0; t < tp; t++)
            {
                w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, cv).Select(j => $"a{t}_{j} = {v.Zero}"))};");
            }

            w.Line($"float* wk = wt + (kh * {kk} + kw) * {f.OutChannels * cinP} + ci;");
            w.Line($"float* zk = dz + (oh * {f.ConvW} + ow) * {coP};");
            using (w.Block($"for (int co = 0; co < {f.OutChannels}; co++, wk += {cinP}, zk++)"))
            {
                for (int j = 0; j < cv; j++)
                {
                    w.Line($"{v.Type} w{j} = {v.Load($"wk + {j * v.Lanes}")};");
                }

                for (int t = 0; t < tp; t++)
                {
                    w.Line($"{v.Type} z{t} = {v.Broadcast($"zk[{t * coP}]")};");
                    for (int j = 0; j < cv; j++)
                    {
                        w.Line($"a{t}_{j} = {v.MultiplyAdd($"z{t}", $"w{j}", $"a{t}_{j}")};");
                    }
                }
            }

            w.Line($"float* target = dx + ((oh * {f.Stride} + kh * {f.Dilation} + {shift}) * {rowPixels} + ow * {f.Stride} + kw * {f.Dilation} + {shift}) * {cinP} + ci;");
            for (int t = 0; t < tp; t++)
            {
                for (int j = 0; j < cv; j++)
                {
                    string address = $"target + {t * f.Stride * cinP + j * v.Lanes}";
                    w.Line(v.Store($"{v.Load(address)} + a{t}_{j}", address));
                }
            }
        }
    }

    // ---- Linear ---------------------------------------------------------------------------------

    public static void EmitLinearGradWeight(CodeWriter w, LinearGradWeightPlan g, VectorSyntax v, string stride)
    {
        LinearPlan f = g.Forward;
        int kd = f.DotLength, n = f.OutFeatures;
        bool scratch = f.ReadsNhwc;
        w.Line($"// {g.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {g.Name}_{v.Suffix}{Signature}"))
        {
            w.Line($"float* x = arena + {f.Input.Offset}; // {f.Input.Describe()}, one row per sample");
            w.Line($"float* dz = arena + {g.GradPre.Offset}; // {g.GradPre.Describe()}, one row per sample");
            w.Line(scratch
                ? $"float* dw = scratch + {g.ScratchOffset}; // [{n}][{kd}] in the input's NHWC order"
                : $"float* dw = grads + {g.WeightGradOffset}; // [{n}][{kd}]");
            bool accumulate = g.Accumulate && !scratch;
            int lanes = v.IsScalar ? 1 : v.Lanes;
            int vectorEnd = v.IsScalar ? 0 : kd / lanes * lanes;
            if (vectorEnd > 0)
            {
                int ro = v.Width == VectorWidth.V512 ? 4 : 3;
                int ck = System.Math.Max(1, System.Math.Min(vectorEnd / lanes, 4));
                int fullO = n / ro * ro;
                int fullK = vectorEnd / (ck * lanes) * (ck * lanes);
                // Column blocks outside, output blocks inside: a block of every sample's input row stays in
                // L1 while all outputs pass over it.
                void Outputs(int vectors)
                {
                    if (fullO > 0)
                    {
                        using (w.Block($"for (int o = 0; o < {fullO}; o += {ro})"))
                        {
                            EmitLinearGradWeightTile(w, v, ro, vectors, kd, accumulate, stride);
                        }
                    }

                    if (fullO < n)
                    {
                        using (w.Scope())
                        {
                            w.Line($"const int o = {fullO};");
                            EmitLinearGradWeightTile(w, v, n - fullO, vectors, kd, accumulate, stride);
                        }
                    }
                }

                using (w.Block($"for (int k = 0; k < {fullK}; k += {ck * lanes})"))
                {
                    Outputs(ck);
                }

                for (int k0 = fullK; k0 < vectorEnd; k0 += lanes)
                {
                    using (w.Scope())
                    {
                        w.Line($"const int k = {k0};");
                        Outputs(1);
                    }
                }
            }

            if (vectorEnd < kd)
            {
                w.Line(vectorEnd > 0 ? "// the columns after the last whole vector" : "// every column");
                using (w.Block($"for (int o = 0; o < {n}; o++)"))
                using (w.Block($"for (int k = {vectorEnd}; k < {kd}; k++)"))
                {
                    w.Line("float sum = 0f;");
                    using (w.Block("for (int s = 0; s < batch; s++)"))
                    {
                        w.Line($"sum += dz[s * {stride} + o] * x[s * {stride} + k];");
                    }

                    w.Line($"dw[o * {kd} + k] {Assign(accumulate)} sum;");
                }
            }

            if (g.BiasGradOffset >= 0)
            {
                using (w.Block($"for (int o = 0; o < {n}; o++)"))
                {
                    w.Line("float sum = 0f;");
                    using (w.Block("for (int s = 0; s < batch; s++)"))
                    {
                        w.Line($"sum += dz[s * {stride} + o];");
                    }

                    w.Line($"grads[{g.BiasGradOffset} + o] {Assign(g.Accumulate)} sum;");
                }
            }

            if (scratch)
            {
                TensorPlace t = f.Input;
                w.Line("// Permute the columns from the input's NHWC order into PyTorch's [out][c * h * w].");
                if (!g.Accumulate)
                {
                    PackEmitter.EmitNhwcColumnsToChw(w, t, n, "dw", $"grads + {g.WeightGradOffset}");
                }
                else
                {
                    using (w.Block($"for (int o = 0; o < {n}; o++)"))
                    using (w.Block($"for (int c = 0; c < {t.C}; c++)"))
                    using (w.Block($"for (int h = 0; h < {t.H}; h++)"))
                    using (w.Block($"for (int x0 = 0; x0 < {t.W}; x0++)"))
                    {
                        w.Line($"grads[{g.WeightGradOffset} + o * {f.InFeatures} + (c * {t.H} + h) * {t.W} + x0] += dw[o * {kd} + {SimpleKernelEmitter.Pixel(t, "h", "x0")} + c];");
                    }
                }
            }
        }

        w.Line();
    }

    private static void EmitLinearGradWeightTile(CodeWriter w, VectorSyntax v, int rows, int vectors, int kd, bool accumulate, string stride)
    {
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, vectors).Select(j => $"a{r}_{j} = {v.Zero}"))};");
        }

        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* xs = x + s * {stride} + k;");
            w.Line($"float* zs = dz + s * {stride} + o;");
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{v.Type} x{j} = {v.Load($"xs + {j * v.Lanes}")};");
            }

            for (int r = 0; r < rows; r++)
            {
                w.Line($"{v.Type} z{r} = {v.Broadcast($"zs[{r}]")};");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"a{r}_{j} = {v.MultiplyAdd($"z{r}", $"x{j}", $"a{r}_{j}")};");
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                string address = $"dw + (o + {r}) * {kd} + k + {j * v.Lanes}";
                w.Line(v.Store(accumulate ? $"{v.Load(address)} + a{r}_{j}" : $"a{r}_{j}", address));
            }
        }
    }

    public static void EmitLinearGradInput(CodeWriter w, LinearGradInputPlan g, VectorSyntax v, string stride)
    {
        LinearPlan f = g.Forward;
        int kd = f.DotLength, n = f.OutFeatures;
        w.Line($"// {g.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {g.Name}_{v.Suffix}{Signature}"))
        {
            w.Line(g.WeightPacked
                ? $"float* weights = packed + {g.WeightOffset}; // [{n}][{kd}], columns in the input's NHWC order"
                : $"float* weights = parameters + {g.WeightOffset}; // [{n}][{kd}]");
            w.Line($"float* dz = arena + {g.GradPre.Offset}; // {g.GradPre.Describe()}, one row per sample");
            w.Line($"float* dx = arena + {g.GradInput.Offset}; // {g.GradInput.Describe()}, one row per sample");
            int lanes = v.IsScalar ? 1 : v.Lanes;
            int vectorEnd = v.IsScalar ? 0 : kd / lanes * lanes;
            if (vectorEnd > 0)
            {
                int rs = v.Width == VectorWidth.V512 ? 4 : 3;
                int ck = System.Math.Max(1, System.Math.Min(vectorEnd / lanes, 4));
                int fullK = vectorEnd / (ck * lanes) * (ck * lanes);
                void Samples(int vectors)
                {
                    w.Line("int s = 0;");
                    using (w.Block($"for (; s + {rs} <= batch; s += {rs})"))
                    {
                        EmitLinearGradInputTile(w, g, v, rs, vectors, kd, n, stride);
                    }

                    using (w.Block("for (; s < batch; s++)"))
                    {
                        EmitLinearGradInputTile(w, g, v, 1, vectors, kd, n, stride);
                    }
                }

                using (w.Block($"for (int k = 0; k < {fullK}; k += {ck * lanes})"))
                {
                    Samples(ck);
                }

                for (int k0 = fullK; k0 < vectorEnd; k0 += lanes)
                {
                    using (w.Scope())
                    {
                        w.Line($"const int k = {k0};");
                        Samples(1);
                    }
                }
            }

            if (vectorEnd < kd)
            {
                using (w.Block("for (int s = 0; s < batch; s++)"))
                using (w.Block($"for (int k = {vectorEnd}; k < {kd}; k++)"))
                {
                    w.Line("float sum = 0f;");
                    using (w.Block($"for (int o = 0; o < {n}; o++)"))
                    {
                        w.Line($"sum += dz[s * {stride} + o] * weights[o * {kd} + k];");
                    }

                    w.Line($"dx[s * {stride} + k] {Assign(g.Accumulate)} sum;");
                }
            }
        }

        w.Line();
    }

    private static void EmitLinearGradInputTile(CodeWriter w, LinearGradInputPlan g, VectorSyntax v, int rows, int vectors, int kd, int n, string stride)
    {
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{v.Type} {string.Join(", ", Enumerable.Range(0, vectors).Select(j => $"a{r}_{j} = {v.Zero}"))};");
        }

        w.Line("float* wk = weights + k;");
        using (w.Block($"for (int o = 0; o < {n}; o++, wk += {kd})"))
        {
            for (int j = 0; j < vectors; j++)
            {
                w.Line($"{v.Type} w{j} = {v.Load($"wk + {j * v.Lanes}")};");
            }

            for (int r = 0; r < rows; r++)
            {
                w.Line($"{v.Type} z{r} = {v.Broadcast($"dz[(s + {r}) * {stride} + o]")};");
                for (int j = 0; j < vectors; j++)
                {
                    w.Line($"a{r}_{j} = {v.MultiplyAdd($"z{r}", $"w{j}", $"a{r}_{j}")};");
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vectors; j++)
            {
                string address = $"dx + (s + {r}) * {stride} + k + {j * v.Lanes}";
                w.Line(v.Store(g.Accumulate ? $"{v.Load(address)} + a{r}_{j}" : $"a{r}_{j}", address));
            }
        }
    }
}
