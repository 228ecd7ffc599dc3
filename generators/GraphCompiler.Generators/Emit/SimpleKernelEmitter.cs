using System.Linq;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints the kernels without register tiles: input and output copies, relayouts, standalone pools and
/// element-wise ops (vectorized over channels), softmax; the weight packing is <see cref="PackEmitter"/>'s.
/// </summary>
internal static class SimpleKernelEmitter
{
    private const string Header = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

    public static void EmitCopyIn(CodeWriter w, CopyInPlan c, string arenaStride)
    {
        TensorPlace d = c.Destination;
        w.Line($"// {c.Comment}");
        using (w.Block("internal static unsafe void CopyIn(float* input, float* arena, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = input + n * {c.InputSize};");
            w.Line($"float* target = arena + n * {arenaStride} + {d.Offset};");
            if (d.Kind == StorageKind.Flat)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(source, {c.InputSize}).CopyTo(new global::System.Span<float>(target, {c.InputSize}));");
            }
            else if (d.C == 1 && d.ChannelStride == 1)
            {
                using (w.Block($"for (int h = 0; h < {d.H}; h++)"))
                {
                    w.Line($"new global::System.ReadOnlySpan<float>(source + h * {d.W}, {d.W}).CopyTo(new global::System.Span<float>(target + ((h + {d.Pad}) * {d.W + 2 * d.Pad} + {d.Pad}), {d.W}));");
                }
            }
            else
            {
                EmitChwToNhwc(w, d, "source", "target");
            }
        }

        w.Line();
    }

    public static void EmitCopyOut(CodeWriter w, CopyOutPlan c, string arenaStride)
    {
        TensorPlace s = c.Source;
        w.Line($"// {c.Comment}");
        using (w.Block("internal static unsafe void CopyOut(float* arena, float* output, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = arena + n * {arenaStride} + {s.Offset};");
            w.Line($"float* target = output + n * {c.OutputSize};");
            if (s.Kind == StorageKind.Flat)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(source, {c.OutputSize}).CopyTo(new global::System.Span<float>(target, {c.OutputSize}));");
            }
            else
            {
                EmitNhwcToChw(w, s, "source", "target");
            }
        }

        w.Line();
    }

    public static void EmitRelayout(CodeWriter w, RelayoutPlan r, string arenaStride)
    {
        w.Line($"// {r.Comment}");
        using (w.Block($"internal static unsafe void {r.Name}(float* arena, float* parameters, float* packed, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = arena + n * {arenaStride} + {r.Input.Offset};");
            w.Line($"float* target = arena + n * {arenaStride} + {r.Output.Offset};");
            if (r.Input.Kind == StorageKind.Nhwc && r.Output.Kind == StorageKind.Flat)
            {
                EmitNhwcToChw(w, r.Input, "source", "target");
            }
            else if (r.Input.Kind == StorageKind.Flat && r.Output.Kind == StorageKind.Nhwc)
            {
                EmitChwToNhwc(w, r.Output, "source", "target");
            }
            else if (r.Input.Kind == StorageKind.Flat)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(source, {r.Input.C}).CopyTo(new global::System.Span<float>(target, {r.Input.C}));");
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {r.Input.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {r.Input.W}; x++)"))
                using (w.Block($"for (int c = 0; c < {r.Input.C}; c++)"))
                {
                    w.Line($"target[{Pixel(r.Output, "h", "x")} + c] = source[{Pixel(r.Input, "h", "x")} + c];");
                }
            }
        }

        w.Line();
    }

    /// <summary>Offset of pixel (h, x) of the interior from the tensor's start (no arena offset).</summary>
    internal static string Pixel(TensorPlace t, string h, string x) =>
        $"(({h} + {t.Pad}) * {t.W + 2 * t.Pad} + {x} + {t.Pad}) * {t.ChannelStride}";

    internal static void EmitChwToNhwc(CodeWriter w, TensorPlace d, string source, string target)
    {
        using (w.Block($"for (int c = 0; c < {d.C}; c++)"))
        using (w.Block($"for (int h = 0; h < {d.H}; h++)"))
        using (w.Block($"for (int x = 0; x < {d.W}; x++)"))
        {
            w.Line($"{target}[{Pixel(d, "h", "x")} + c] = {source}[(c * {d.H} + h) * {d.W} + x];");
        }
    }

    internal static void EmitNhwcToChw(CodeWriter w, TensorPlace s, string source, string target)
    {
        using (w.Block($"for (int h = 0; h < {s.H}; h++)"))
        using (w.Block($"for (int x = 0; x < {s.W}; x++)"))
        using (w.Block($"for (int c = 0; c < {s.C}; c++)"))
        {
            w.Line($"{target}[(c * {s.H} + h) * {s.W} + x] = {source}[{Pixel(s, "h", "x")} + c];");
        }
    }

    public static void EmitPool(CodeWriter w, PoolPlan p, VectorSyntax v, string arenaStride)
    {
        TensorPlace i = p.Input, o = p.Output;
        bool vector = !v.IsScalar && i.ChannelStride == o.ChannelStride && i.ChannelStride % v.Lanes == 0;
        int channels = vector ? i.ChannelStride : i.C;
        int step = vector ? v.Lanes : 1;
        string type = vector ? v.Type : "float";
        w.Line($"// {p.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {p.Name}_{v.Suffix}(float* arena, float* parameters, float* packed, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* x = arena + n * {arenaStride} + {i.Offset}; // {i.Describe()}");
            w.Line($"float* y = arena + n * {arenaStride} + {o.Offset}; // {o.Describe()}");
            using (w.Block($"for (int oh = 0; oh < {o.H}; oh++)"))
            using (w.Block($"for (int ow = 0; ow < {o.W}; ow++)"))
            {
                bool avg = p.Pool == PoolKind.Avg;
                // Average pooling counts the zero border (PyTorch's count_include_pad), which the storage holds;
                // max pooling skips it, so its window is clipped to the image.
                string lo(string d) => $"{d} * {p.Stride} - {p.Padding}";
                if (avg)
                {
                    w.Line($"int h0 = {lo("oh")}, h1 = h0 + {p.Kernel}, w0 = {lo("ow")}, w1 = w0 + {p.Kernel};");
                }
                else
                {
                    w.Line($"int h0 = global::System.Math.Max({lo("oh")}, 0), h1 = global::System.Math.Min({lo("oh")} + {p.Kernel}, {i.H});");
                    w.Line($"int w0 = global::System.Math.Max({lo("ow")}, 0), w1 = global::System.Math.Min({lo("ow")} + {p.Kernel}, {i.W});");
                }

                using (w.Block($"for (int c = 0; c < {channels}; c += {step})"))
                {
                    string init = avg ? (vector ? v.Zero : "0f") : (vector ? v.Broadcast("float.NegativeInfinity") : "float.NegativeInfinity");
                    w.Line($"{type} acc = {init};");
                    using (w.Block("for (int ih = h0; ih < h1; ih++)"))
                    using (w.Block("for (int iw = w0; iw < w1; iw++)"))
                    {
                        string load = vector ? v.Load($"x + {Pixel(i, "ih", "iw")} + c") : $"x[{Pixel(i, "ih", "iw")} + c]";
                        w.Line(avg ? $"acc += {load};" : vector ? $"acc = {v.Max("acc", load)};" : $"acc = global::System.MathF.Max(acc, {load});");
                    }

                    string result = avg ? $"acc * {CodeWriter.F(1f / (p.Kernel * p.Kernel))}" : "acc";
                    w.Line(vector ? v.Store(result, $"y + {Pixel(o, "oh", "ow")} + c") : $"y[{Pixel(o, "oh", "ow")} + c] = {result};");
                }
            }
        }

        w.Line();
    }

    public static void EmitElementwise(CodeWriter w, ElementwisePlan e, VectorSyntax v, string arenaStride)
    {
        TensorPlace[] places = e.Right is null ? new[] { e.Left, e.Output } : new[] { e.Left, e.Right, e.Output };
        bool uniform = places.All(t => t.Kind == e.Output.Kind && t.ChannelStride == e.Output.ChannelStride);
        int length = e.Output.Kind == StorageKind.Flat ? e.Output.C : uniform ? e.Output.ChannelStride : e.Output.C;
        w.Line($"// {e.Comment}");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {e.Name}_{v.Suffix}(float* arena, float* parameters, float* packed, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* sample = arena + n * {arenaStride};");
            if (e.Output.Kind == StorageKind.Flat)
            {
                EmitRun(w, e, v, length, t => $"sample + {t.Offset}");
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {e.Output.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {e.Output.W}; x++)"))
                {
                    EmitRun(w, e, v, length, t => $"sample + {t.Offset} + {Pixel(t, "h", "x")}");
                }
            }
        }

        w.Line();
    }

    /// <summary>One contiguous run of <paramref name="length"/> elements: vectors, then a scalar tail.</summary>
    private static void EmitRun(CodeWriter w, ElementwisePlan e, VectorSyntax v, int length, System.Func<TensorPlace, string> address)
    {
        w.Line($"float* a = {address(e.Left)};");
        if (e.Right is not null)
        {
            w.Line($"float* b = {address(e.Right)};");
        }

        w.Line($"float* r = {address(e.Output)};");
        int vectorEnd = v.IsScalar ? 0 : length / v.Lanes * v.Lanes;
        if (vectorEnd > 0)
        {
            using (w.Block($"for (int i = 0; i < {vectorEnd}; i += {v.Lanes})"))
            {
                string left = v.Load("a + i");
                string value = e.Op switch
                {
                    ElementwiseOp.Add => $"{left} + {v.Load("b + i")}",
                    ElementwiseOp.Mul => $"{left} * {v.Load("b + i")}",
                    _ => v.Activate(ToActivation(e.Op), left),
                };
                w.Line(v.Store(value, "r + i"));
            }
        }

        if (vectorEnd < length)
        {
            using (w.Block($"for (int i = {vectorEnd}; i < {length}; i++)"))
            {
                string value = e.Op switch
                {
                    ElementwiseOp.Add => "a[i] + b[i]",
                    ElementwiseOp.Mul => "a[i] * b[i]",
                    _ => VectorSyntax.ActivateScalar(ToActivation(e.Op), "a[i]"),
                };
                w.Line($"r[i] = {value};");
            }
        }
    }

    private static Activation ToActivation(ElementwiseOp op) => op switch
    {
        ElementwiseOp.Relu => Activation.Relu,
        ElementwiseOp.Tanh => Activation.Tanh,
        _ => Activation.Sigmoid,
    };

    public static void EmitSoftmax(CodeWriter w, SoftmaxPlan s, string arenaStride)
    {
        w.Line($"// {s.Comment}");
        if (s.Log)
        {
            // the runtime's row kernel: vector max, exp and sum on every width
            using (w.Block($"internal static unsafe void {s.Name}(float* arena, float* parameters, float* packed, int batch)"))
            using (w.Block($"for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* sample = arena + n * {arenaStride};");
                w.Line($"global::GraphCompiler.Kernels.SoftmaxKernel.LogSoftmax(sample + {s.Input.Offset}, sample + {s.Output.Offset}, {s.Rows}, {s.Length});");
            }

            w.Line();
            return;
        }

        using (w.Block($"internal static unsafe void {s.Name}(float* arena, float* parameters, float* packed, int batch)"))
        using (w.Block($"for (int n = 0; n < batch; n++)"))
        using (w.Block($"for (int row = 0; row < {s.Rows}; row++)"))
        {
            w.Line($"float* x = arena + n * {arenaStride} + {s.Input.Offset} + row * {s.Length};");
            w.Line($"float* y = arena + n * {arenaStride} + {s.Output.Offset} + row * {s.Length};");
            w.Line("float max = float.NegativeInfinity;");
            using (w.Block($"for (int i = 0; i < {s.Length}; i++)"))
            {
                w.Line("max = global::System.MathF.Max(max, x[i]);");
            }

            w.Line("float sum = 0f;");
            using (w.Block($"for (int i = 0; i < {s.Length}; i++)"))
            {
                w.Line("sum += global::System.MathF.Exp(x[i] - max);");
            }

            w.Line("float scale = 1f / sum;");
            using (w.Block($"for (int i = 0; i < {s.Length}; i++)"))
            {
                w.Line("y[i] = global::System.MathF.Exp(x[i] - max) * scale;");
            }
        }

        w.Line();
    }

    /// <summary>A kernel of calls into the runtime's row kernels, one method for every width.</summary>
    public static void EmitCall(CodeWriter w, CallPlan c, string arenaStride)
    {
        w.Line($"// {c.Comment}");
        w.Line(Header);
        string signature = c.Backward ? GradientEmitter.Signature : "(float* arena, float* parameters, float* packed, int batch)";
        using (w.Block($"internal static unsafe void {c.Name}{signature}"))
        {
            foreach (string line in c.Setup)
            {
                w.Line(line);
            }

            using (w.Block("for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* sample = arena + n * {arenaStride};");
                foreach (string line in c.PerSample)
                {
                    w.Line(line);
                }
            }
        }

        w.Line();
    }

    public static void EmitCopyInTokens(CodeWriter w, CopyInTokensPlan c, string arenaStride)
    {
        w.Line($"// {c.Comment}");
        using (w.Block($"internal static unsafe void {c.Name}(int* input, float* arena, int batch)"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"new global::System.ReadOnlySpan<int>(input + n * {c.Length}, {c.Length}).CopyTo(new global::System.Span<int>((int*)(arena + n * {arenaStride} + {c.Destination.Offset}), {c.Length}));");
        }

        w.Line();
    }

    /// <summary>The weight packing: <see cref="PackEmitter"/>.</summary>
    public static void EmitPackWeights(CodeWriter w, ModelPlan plan) => PackEmitter.EmitPackWeights(w, plan);
}
