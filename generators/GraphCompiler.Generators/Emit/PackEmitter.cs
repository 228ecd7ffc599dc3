using System.Linq;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints <c>PackWeights</c>, which rebuilds the kernels' packed copy of the weights after every parameter
/// change (every optimizer step), and the transpose it is made of. Every pack is a transpose of 2-D blocks:
/// a conv weight's [out][taps] per input channel, a linear weight's [out][in], one output row's
/// [channels][pixels]. One routine does them all, printed per vector width: register tiles of 16x16 floats
/// (512-bit), 8x8 (256-bit) or 4x4 (128-bit), loaded along contiguous source rows, shuffled, and stored along
/// contiguous target rows, with masked loads and stores at the edges of the 512/256-bit tiles, and a scalar
/// loop without vectors. The vector tiles use the x86 shuffles; elsewhere the scalar loop runs. The backward
/// pass uses the same routine to unpack weight gradients summed in a packed order.
/// </summary>
internal static class PackEmitter
{
    /// <summary>The dispatching transpose; the per-width routines add <c>_V512</c>, <c>_V256</c>...</summary>
    public const string Transpose = "TransposeBlock";

    /// <summary>The names the emitted helpers take, which no kernel may take.</summary>
    public static readonly string[] ReservedNames = { Transpose, "TransposeTile", "PackWeights" };

    private const string X86 = "X86."; // the file's alias of System.Runtime.Intrinsics.X86
    private const string Signature = "(float* source, int sourceStride, float* target, int targetStride, int rows, int columns)";

    /// <summary>A call of the transpose: target[c * targetStride + r] = source[r * sourceStride + c], r &lt; rows, c &lt; columns.</summary>
    public static string Call(string source, object sourceStride, string target, object targetStride, object rows, object columns) =>
        $"{Transpose}({source}, sourceStride: {sourceStride}, {target}, targetStride: {targetStride}, rows: {rows}, columns: {columns});";

    public static void EmitPackWeights(CodeWriter w, ModelPlan plan)
    {
        w.Line("// Rearranges the weights that kernels read in another layout; runs again after any parameter change.");
        w.Line("// Padding positions keep the zeros of the buffer's allocation: nothing else is ever written there.");
        w.Line($"// Conv and linear weights are transposed in blocks ({Transpose}, below), in register tiles.");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)] // optimized from the first call, as the kernels: training calls it after every step");
        using (w.Block("internal static unsafe void PackWeights(float* parameters, float* packed)"))
        {
            if (plan.Packs.Count == 0)
            {
                w.Line("// nothing to pack: every kernel reads the parameters in PyTorch's layout");
            }

            // The permuted copies of linear weights first: the transposed pack of the same weight is the
            // transpose of that copy, a plain [out][in'] -> [in'][out] (faster than permuting on the way).
            foreach (PackPlan pack in plan.Packs.OfType<LinearPermutePack>().Concat<PackPlan>(plan.Packs.Where(p => p is not LinearPermutePack)))
            {
                w.Line($"// {pack.Comment}");
                using (w.Scope())
                {
                    LinearPermutePack? copy = pack is LinearWeightPack weight ? PermutedCopyOf(weight, plan) : null;
                    if (pack is not TablePack) // a constant table reads no parameter
                    {
                        w.Line(copy is null
                            ? $"float* source = parameters + {pack.SourceOffset};"
                            : $"float* source = packed + {copy.PackedOffset}; // the permuted copy made above: [{copy.OutFeatures}][{copy.Input.Floats}]");
                    }

                    w.Line($"float* target = packed + {pack.PackedOffset};");
                    switch (pack)
                    {
                        case ConvWeightPack c:
                            EmitConvWeight(w, c);
                            break;
                        case ConvInputGradPack c:
                            EmitConvInputGrad(w, c);
                            break;
                        case RecurrentPack r:
                            RecurrentEmitter.EmitPack(w, r);
                            break;
                        case LinearPermutePack p:
                            EmitLinearPermute(w, p);
                            break;
                        case TablePack t:
                            w.Line(t.Statement);
                            break;
                        case LinearWeightPack l:
                            EmitLinearWeight(w, l);
                            break;
                    }
                }
            }
        }

        w.Line();
        if (plan.Packs.Count > 0)
        {
            EmitTransposes(w);
        }
    }

    /// <summary>
    /// The permute pack of the same weight into the same NHWC order, which a linear reading a flattened NHWC
    /// tensor always has (every stored tensor has a gradient, so the input gradient's pack exists).
    /// </summary>
    private static LinearPermutePack? PermutedCopyOf(LinearWeightPack l, ModelPlan plan) =>
        l.NhwcInput is null
            ? null
            : plan.Packs.OfType<LinearPermutePack>().FirstOrDefault(p =>
                p.SourceOffset == l.SourceOffset && p.OutFeatures == l.OutFeatures && p.Input == l.NhwcInput)
              ?? throw new System.InvalidOperationException($"No permuted copy of the weight for the pack '{l.Comment}'.");

    private static void EmitConvWeight(CodeWriter w, ConvWeightPack c)
    {
        int taps = c.Kernel * c.Kernel;
        if (c.InChannels == 1)
        {
            w.Line($"// [{c.OutChannels}][{taps}] (out channel, tap) -> [{taps}][{c.OutChannelsPadded}] (tap, out channel)");
            w.Line(Call("source", taps, "target", c.OutChannelsPadded, c.OutChannels, taps));
        }
        else
        {
            w.Line($"// each input channel ci: [{c.OutChannels}][{taps}] (out channel, tap) -> [{taps}][{c.OutChannelsPadded}] (tap, out channel)");
            using (w.Block($"for (int ci = 0; ci < {c.InChannels}; ci++)"))
            {
                w.Line(Call($"source + ci * {taps}", c.InChannels * taps, $"target + ci * {c.OutChannelsPadded}", c.InChannels * c.OutChannelsPadded, c.OutChannels, taps));
            }
        }

        if (c.HasBias)
        {
            w.Line($"new global::System.ReadOnlySpan<float>(parameters + {c.BiasSourceOffset}, {c.OutChannels}).CopyTo(new global::System.Span<float>(target + {taps * c.InChannels * c.OutChannelsPadded}, {c.OutChannels}));");
        }
    }

    private static void EmitConvInputGrad(CodeWriter w, ConvInputGradPack c)
    {
        int taps = c.Kernel * c.Kernel;
        if (c.InChannels == c.InChannelsPadded)
        {
            int rows = c.OutChannels * c.InChannels;
            w.Line($"// [{rows}][{taps}] (out and in channel, tap) -> [{taps}][{rows}] (tap, out and in channel)");
            w.Line(Call("source", taps, "target", rows, rows, taps));
        }
        else
        {
            w.Line($"// each output channel co: [{c.InChannels}][{taps}] (in channel, tap) -> [{taps}][{c.InChannelsPadded}] (tap, in channel)");
            using (w.Block($"for (int co = 0; co < {c.OutChannels}; co++)"))
            {
                w.Line(Call($"source + co * {c.InChannels * taps}", taps, $"target + co * {c.InChannelsPadded}", c.OutChannels * c.InChannelsPadded, c.InChannels, taps));
            }
        }
    }

    /// <summary>[out][c][h][w] -> [out][NHWC storage]: per output row, [c][pixels] -> [pixels][c].</summary>
    private static void EmitLinearPermute(CodeWriter w, LinearPermutePack p)
    {
        TensorPlace t = p.Input;
        int pixels = t.H * t.W;
        int inFeatures = t.C * pixels;
        using (w.Block($"for (int o = 0; o < {p.OutFeatures}; o++)"))
        {
            if (t.Pad == 0)
            {
                w.Line($"// row o: [{t.C}][{pixels}] (channel, pixel) -> [{pixels}][{t.ChannelStride}] (pixel, channel)");
                w.Line(Call($"source + o * {inFeatures}", pixels, $"target + o * {t.Floats}", t.ChannelStride, t.C, pixels));
            }
            else
            {
                w.Line($"// image row h of row o: [{t.C}][{t.W}] (channel, pixel) -> [{t.W}][{t.ChannelStride}] inside the zero border");
                using (w.Block($"for (int h = 0; h < {t.H}; h++)"))
                {
                    w.Line(Call($"source + o * {inFeatures} + h * {t.W}", pixels, $"target + o * {t.Floats} + {SimpleKernelEmitter.Pixel(t, "h", "0")}", t.ChannelStride, t.C, t.W));
                }
            }
        }
    }

    /// <summary>[out][in] -> [in][out padded]; the source is the permuted copy when the input is a flattened NHWC tensor.</summary>
    private static void EmitLinearWeight(CodeWriter w, LinearWeightPack l)
    {
        w.Line($"// target row k: column k of the source [{l.OutFeatures}][{l.DotLength}]");
        w.Line(Call("source", l.DotLength, "target", l.OutFeaturesPadded, l.OutFeatures, l.DotLength));
        if (l.HasBias)
        {
            w.Line($"new global::System.ReadOnlySpan<float>(parameters + {l.BiasSourceOffset}, {l.OutFeatures}).CopyTo(new global::System.Span<float>(target + {l.DotLength * l.OutFeaturesPadded}, {l.OutFeatures}));");
        }
    }

    // ---- The same transposes backwards, for gradients computed in a packed order -------------------------

    /// <summary>
    /// A conv weight gradient summed in the packed order, [taps][in][out padded], written into PyTorch's
    /// [out][in][taps] (not added): per input channel, [taps][out] -> [out][taps].
    /// </summary>
    public static void EmitConvUnpack(CodeWriter w, int outChannels, int outPadded, int inChannels, int taps, string packed, string pytorch)
    {
        w.Line($"// Unpack into PyTorch's [out][in][kh][kw]: each input channel ci, [{taps}][{outChannels}] (tap, out channel) -> [{outChannels}][{taps}]");
        using (w.Block($"for (int ci = 0; ci < {inChannels}; ci++)"))
        {
            w.Line(Call($"{packed} + ci * {outPadded}", inChannels * outPadded, $"{pytorch} + ci * {taps}", inChannels * taps, taps, outChannels));
        }
    }

    /// <summary>
    /// A linear weight gradient summed with its columns in the NHWC order of the flattened input <paramref name="t"/>,
    /// written into PyTorch's [out][c * h * w] (not added): per row, [pixels][channels] -> [channels][pixels].
    /// </summary>
    public static void EmitNhwcColumnsToChw(CodeWriter w, TensorPlace t, int outFeatures, string nhwc, string pytorch)
    {
        int pixels = t.H * t.W;
        using (w.Block($"for (int o = 0; o < {outFeatures}; o++)"))
        {
            if (t.Pad == 0)
            {
                w.Line($"// row o: [{pixels}][{t.ChannelStride}] (pixel, channel) -> [{t.C}][{pixels}] (channel, pixel)");
                w.Line(Call($"{nhwc} + o * {t.Floats}", t.ChannelStride, $"{pytorch} + o * {t.C * pixels}", pixels, pixels, t.C));
            }
            else
            {
                w.Line($"// image row h of row o: [{t.W}][{t.ChannelStride}] (pixel, channel) inside the zero border -> [{t.C}][{t.W}]");
                using (w.Block($"for (int h = 0; h < {t.H}; h++)"))
                {
                    w.Line(Call($"{nhwc} + o * {t.Floats} + {SimpleKernelEmitter.Pixel(t, "h", "0")}", t.ChannelStride, $"{pytorch} + o * {t.C * pixels} + h * {t.W}", pixels, t.W, t.C));
                }
            }
        }
    }

    // ---- The transpose, per vector width ----------------------------------------------------------------

    private static void EmitTransposes(CodeWriter w)
    {
        w.Line($"// {Transpose}: target[c * targetStride + r] = source[r * sourceStride + c] for r < rows and c < columns,");
        w.Line("// on the widest accelerated vector width (the checks are JIT-time constants: one branch is compiled).");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveInlining)]");
        using (w.Block($"internal static unsafe void {Transpose}{Signature}"))
        {
            const string arguments = "(source, sourceStride, target, targetStride, rows, columns);";
            using (w.Block($"if (Vector512.IsHardwareAccelerated && {X86}Avx512F.IsSupported)"))
            {
                w.Line($"{Transpose}_V512{arguments}");
            }

            using (w.Block($"else if (Vector256.IsHardwareAccelerated && {X86}Avx.IsSupported)"))
            {
                w.Line($"{Transpose}_V256{arguments}");
            }

            using (w.Block($"else if (Vector128.IsHardwareAccelerated && {X86}Sse.IsSupported)"))
            {
                w.Line($"{Transpose}_V128{arguments}");
            }

            using (w.Block("else"))
            {
                w.Line($"{Transpose}_Scalar{arguments}");
            }
        }

        w.Line();
        EmitMaskedBlock(w, VectorSyntax.V512);
        EmitMaskedBlock(w, VectorSyntax.V256);
        EmitV128Block(w);
        EmitScalarBlock(w);
    }

    /// <summary>512 and 256-bit: every tile, whole or cut by the block's edges, in one masked tile routine.</summary>
    private static void EmitMaskedBlock(CodeWriter w, VectorSyntax v)
    {
        int n = v.Lanes;
        w.Line($"// Tiles of {n}x{n}; column tiles outside, so that each target row is written from its start to its end.");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {Transpose}_{v.Suffix}{Signature}"))
        {
            using (w.Block($"for (int c = 0; c < columns; c += {n})"))
            {
                w.Line($"int width = global::System.Math.Min(columns - c, {n});");
                using (w.Block($"for (int r = 0; r < rows; r += {n})"))
                {
                    w.Line($"TransposeTile_{v.Suffix}(source + r * sourceStride + c, sourceStride, target + c * targetStride + r, targetStride, global::System.Math.Min(rows - r, {n}), width);");
                }
            }
        }

        w.Line();
        string isa = X86 + (n == 16 ? "Avx512F" : "Avx");
        w.Line($"// One tile: up to {n} source rows of up to {n} floats become as many target rows; loads and stores past the");
        w.Line("// block's edges are masked off (loads read zeros there). Too large to inline: optimized from its first call,");
        w.Line("// where tiering would run it unoptimized for the first thousand or so packs.");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"private static unsafe void TransposeTile_{v.Suffix}{Signature}"))
        {
            string indices = $"{v.Class}<int>.Indices";
            w.Line($"{v.Type} columnMask = {v.Class}.LessThan({indices}, {v.Class}.Create(columns)).AsSingle();");
            w.Line($"{v.Type} rowMask = {v.Class}.LessThan({indices}, {v.Class}.Create(rows)).AsSingle();");
            w.Line($"{v.Type} zero = {v.Zero};");
            w.Line("// the source rows");
            string Load(string address) => n == 16 ? $"{isa}.MaskLoad({address}, columnMask, zero)" : $"{isa}.MaskLoad({address}, columnMask)";
            w.Line($"{v.Type} r0 = {Load("source")};");
            for (int i = 1; i < n; i++)
            {
                w.Line($"{v.Type} r{i} = rows > {i} ? {Load(Row("source", "sourceStride", i))} : zero;");
            }

            w.Line("// interleave the floats of each pair of rows, within each 128-bit lane");
            for (int i = 0; i < n; i += 2)
            {
                w.Line($"{v.Type} a{i} = {isa}.UnpackLow(r{i}, r{i + 1}), a{i + 1} = {isa}.UnpackHigh(r{i}, r{i + 1});");
            }

            // After this stage, 128-bit lane l of b[4q + m] holds column 4l + m of rows 4q .. 4q + 3.
            w.Line("// interleave the float pairs of two row pairs: lane l of b[4q + m] holds column 4l + m of rows 4q to 4q + 3");
            for (int q = 0; q < n; q += 4)
            {
                for (int half = 0; half < 2; half++)
                {
                    string x = $"a{q + half}", y = $"a{q + half + 2}";
                    w.Line(n == 16
                        ? $"{v.Type} b{q + 2 * half} = {isa}.UnpackLow({x}.AsDouble(), {y}.AsDouble()).AsSingle(), b{q + 2 * half + 1} = {isa}.UnpackHigh({x}.AsDouble(), {y}.AsDouble()).AsSingle();"
                        : $"{v.Type} b{q + 2 * half} = {isa}.Shuffle({x}, {y}, 0x44), b{q + 2 * half + 1} = {isa}.Shuffle({x}, {y}, 0xEE);");
                }
            }

            if (n == 16)
            {
                // Lanes (0, 2) or (1, 3) of b[m] and b[4 + m] (rows 0-7), b[8 + m] and b[12 + m] (rows 8-15): lane by
                // lane, columns 4h + m and 4h + 8 + m of rows 0-3, then of rows 4-7 (h = 0 for 0x88, 1 for 0xDD).
                w.Line("// gather 128-bit lanes: c[4h + m] holds columns 4h + m and 4h + 8 + m of rows 0 to 7, c[8 + 4h + m] of rows 8 to 15");
                for (int h = 0; h < 2; h++)
                {
                    string select = h == 0 ? "0x88" : "0xDD";
                    for (int m = 0; m < 4; m++)
                    {
                        w.Line($"{v.Type} c{4 * h + m} = {isa}.Shuffle4x128(b{m}, b{4 + m}, {select}), c{8 + 4 * h + m} = {isa}.Shuffle4x128(b{8 + m}, b{12 + m}, {select});");
                    }
                }

                w.Line("// the target rows: t[j] is column j of the source rows");
                for (int j = 0; j < 16; j++)
                {
                    int h = (j / 4) % 2, m = j % 4;
                    string select = j < 8 ? "0x88" : "0xDD";
                    w.Line($"{v.Type} t{j} = {isa}.Shuffle4x128(c{4 * h + m}, c{8 + 4 * h + m}, {select});");
                }
            }
            else
            {
                w.Line("// the target rows: t[j] is column j of the source rows (the low 128-bit lanes hold columns 0 to 3)");
                for (int j = 0; j < 8; j++)
                {
                    w.Line($"{v.Type} t{j} = {isa}.Permute2x128(b{j % 4}, b{4 + j % 4}, {(j < 4 ? "0x20" : "0x31")});");
                }
            }

            EmitTileStores(w, v, isa);
        }

        w.Line();
    }

    private static void EmitTileStores(CodeWriter w, VectorSyntax v, string isa)
    {
        int n = v.Lanes;
        // Whole target rows take plain stores (a masked store is slower on some processors).
        w.Line("// store the target rows that exist: whole, or their first `rows` floats");
        using (w.Block($"if (rows == {n})"))
        {
            w.Line(v.Store("t0", "target"));
            for (int j = 1; j < n; j++)
            {
                w.Line($"if (columns > {j}) {v.Store($"t{j}", Row("target", "targetStride", j))}");
            }
        }

        using (w.Block("else"))
        {
            w.Line($"{isa}.MaskStore(target, rowMask, t0);");
            for (int j = 1; j < n; j++)
            {
                w.Line($"if (columns > {j}) {isa}.MaskStore({Row("target", "targetStride", j)}, rowMask, t{j});");
            }
        }
    }

    private static string Row(string pointer, string stride, int i) => i == 1 ? $"{pointer} + {stride}" : $"{pointer} + {i} * {stride}";

    /// <summary>128-bit (SSE, no masked moves): whole 4x4 tiles, the edges by the scalar loop.</summary>
    private static void EmitV128Block(CodeWriter w)
    {
        const string sse = X86 + "Sse";
        w.Line("// Whole tiles of 4x4, column tiles outside; the columns and rows past the last whole tile by the scalar loop.");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {Transpose}_V128{Signature}"))
        {
            w.Line("int wholeRows = rows & ~3, wholeColumns = columns & ~3;");
            using (w.Block("for (int c = 0; c < wholeColumns; c += 4)"))
            {
                using (w.Block("for (int r = 0; r < wholeRows; r += 4)"))
                {
                    w.Line("float* s = source + r * sourceStride + c;");
                    w.Line("float* t = target + c * targetStride + r;");
                    w.Line("Vector128<float> r0 = Vector128.Load(s), r1 = Vector128.Load(s + sourceStride), r2 = Vector128.Load(s + 2 * sourceStride), r3 = Vector128.Load(s + 3 * sourceStride);");
                    w.Line("// interleave the floats of rows 0 and 1, and of rows 2 and 3");
                    w.Line($"Vector128<float> a0 = {sse}.UnpackLow(r0, r1), a1 = {sse}.UnpackHigh(r0, r1), a2 = {sse}.UnpackLow(r2, r3), a3 = {sse}.UnpackHigh(r2, r3);");
                    w.Line("// column j: the matching float pairs of both");
                    w.Line($"Vector128.Store({sse}.MoveLowToHigh(a0, a2), t);");
                    w.Line($"Vector128.Store({sse}.MoveHighToLow(a2, a0), t + targetStride);");
                    w.Line($"Vector128.Store({sse}.MoveLowToHigh(a1, a3), t + 2 * targetStride);");
                    w.Line($"Vector128.Store({sse}.MoveHighToLow(a3, a1), t + 3 * targetStride);");
                }
            }

            w.Line($"{Transpose}_Scalar(source + wholeColumns, sourceStride, target + wholeColumns * targetStride, targetStride, rows, columns - wholeColumns);");
            w.Line($"{Transpose}_Scalar(source + wholeRows * sourceStride, sourceStride, target + wholeRows, targetStride, rows - wholeRows, wholeColumns);");
        }

        w.Line();
    }

    private static void EmitScalarBlock(CodeWriter w)
    {
        w.Line("// One float at a time, each target row from its start to its end.");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block($"internal static unsafe void {Transpose}_Scalar{Signature}"))
        using (w.Block("for (int c = 0; c < columns; c++)"))
        using (w.Block("for (int r = 0; r < rows; r++)"))
        {
            w.Line("target[c * targetStride + r] = source[r * sourceStride + c];");
        }

        w.Line();
    }
}
