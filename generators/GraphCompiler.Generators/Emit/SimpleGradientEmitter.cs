using System.Linq;
using System;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// The light backward kernels, plain loops over the logical elements (each tensor addressed through its
/// own storage): activations, + and *, pools that were not fused, softmax and copies.
/// </summary>
internal static class SimpleGradientEmitter
{
    private static string Assign(bool accumulate) => accumulate ? "+=" : "=";

    /// <summary>Loops over every element of a tensor of <paramref name="shape"/>'s logical shape.</summary>
    private static void ForEachElement(CodeWriter w, TensorPlace shape, string stride, Action<Func<TensorPlace, string>> body)
    {
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* sample = arena + n * {stride};");
            if (shape.Kind == StorageKind.Flat)
            {
                using (w.Block($"for (int i = 0; i < {shape.C}; i++)"))
                {
                    body(t => t.Kind == StorageKind.Flat ? $"sample[{t.Offset} + i]" : throw new InvalidOperationException("layouts differ"));
                }
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {shape.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {shape.W}; x++)"))
                using (w.Block($"for (int c = 0; c < {shape.C}; c++)"))
                {
                    body(t => $"sample[{t.Offset} + {SimpleKernelEmitter.Pixel(t, "h", "x")} + c]");
                }
            }
        }
    }

    public static void EmitActivationGrad(CodeWriter w, ActivationGradPlan g, string stride)
    {
        w.Line($"// {g.Comment}");
        using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
        {
            if (g.Activation == Activation.Relu && new[] { g.Output, g.GradOutput, g.GradInput }.All(t => t.Kind == StorageKind.Flat))
            {
                // flat tensors: the runtime's vector loop (every width)
                using (w.Block("for (int n = 0; n < batch; n++)"))
                {
                    w.Line($"float* sample = arena + n * {stride};");
                    w.Line($"global::GraphCompiler.Kernels.Pointwise.ReluBackward(sample + {g.Output.Offset}, sample + {g.GradOutput.Offset}, sample + {g.GradInput.Offset}, {g.Output.C}, {(g.Accumulate ? "true" : "false")});");
                }
            }
            else
            {
                ForEachElement(w, g.Output, stride, at =>
                    w.Line($"{at(g.GradInput)} {Assign(g.Accumulate)} {GradientEmitter.ScalarDerivative(g.Activation, at(g.GradOutput), at(g.Output))};"));
            }
        }

        w.Line();
    }

    public static void EmitBinaryGrad(CodeWriter w, BinaryGradPlan g, string stride)
    {
        w.Line($"// {g.Comment}");
        using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
        {
            if (!g.Multiply && new[] { g.GradOutput, g.GradLeft, g.GradRight }.All(t => t.Kind == StorageKind.Flat))
            {
                // flat tensors: dY copied (or added) into both gradients by the runtime's vector loop
                using (w.Block("for (int n = 0; n < batch; n++)"))
                {
                    w.Line($"float* sample = arena + n * {stride};");
                    w.Line($"global::GraphCompiler.Kernels.Pointwise.ScaleInto(sample + {g.GradOutput.Offset}, sample + {g.GradLeft.Offset}, {g.GradOutput.C}, 1f, {(g.AccumulateLeft ? "true" : "false")});");
                    w.Line($"global::GraphCompiler.Kernels.Pointwise.ScaleInto(sample + {g.GradOutput.Offset}, sample + {g.GradRight.Offset}, {g.GradOutput.C}, 1f, {(g.AccumulateRight ? "true" : "false")});");
                }
            }
            else
            {
                EmitBinaryGradLoop(w, g, stride);
            }
        }

        w.Line();
    }

    private static void EmitBinaryGradLoop(CodeWriter w, BinaryGradPlan g, string stride) =>
            ForEachElement(w, g.GradOutput, stride, at =>
            {
                w.Line($"float dy = {at(g.GradOutput)};");
                if (g.Multiply)
                {
                    w.Line($"float left = {at(g.Left)}, right = {at(g.Right)};");
                    w.Line($"{at(g.GradLeft)} {Assign(g.AccumulateLeft)} dy * right;");
                    w.Line($"{at(g.GradRight)} {Assign(g.AccumulateRight)} dy * left;");
                }
                else
                {
                    w.Line($"{at(g.GradLeft)} {Assign(g.AccumulateLeft)} dy;");
                    w.Line($"{at(g.GradRight)} {Assign(g.AccumulateRight)} dy;");
                }
            });

    public static void EmitRelayoutGrad(CodeWriter w, RelayoutGradPlan g, string stride)
    {
        w.Line($"// {g.Comment}");
        using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* source = arena + n * {stride} + {g.GradOutput.Offset};");
            w.Line($"float* target = arena + n * {stride} + {g.GradInput.Offset};");
            TensorPlace from = g.GradOutput, to = g.GradInput;
            string op = Assign(g.Accumulate);
            if (from.Kind == StorageKind.Flat && to.Kind == StorageKind.Nhwc)
            {
                using (w.Block($"for (int c = 0; c < {to.C}; c++)"))
                using (w.Block($"for (int h = 0; h < {to.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {to.W}; x++)"))
                {
                    w.Line($"target[{SimpleKernelEmitter.Pixel(to, "h", "x")} + c] {op} source[(c * {to.H} + h) * {to.W} + x];");
                }
            }
            else if (from.Kind == StorageKind.Nhwc && to.Kind == StorageKind.Flat)
            {
                using (w.Block($"for (int c = 0; c < {from.C}; c++)"))
                using (w.Block($"for (int h = 0; h < {from.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {from.W}; x++)"))
                {
                    w.Line($"target[(c * {from.H} + h) * {from.W} + x] {op} source[{SimpleKernelEmitter.Pixel(from, "h", "x")} + c];");
                }
            }
            else if (from.Kind == StorageKind.Flat)
            {
                using (w.Block($"for (int i = 0; i < {from.C}; i++)"))
                {
                    w.Line($"target[i] {op} source[i];");
                }
            }
            else
            {
                using (w.Block($"for (int h = 0; h < {from.H}; h++)"))
                using (w.Block($"for (int x = 0; x < {from.W}; x++)"))
                using (w.Block($"for (int c = 0; c < {from.C}; c++)"))
                {
                    w.Line($"target[{SimpleKernelEmitter.Pixel(to, "h", "x")} + c] {op} source[{SimpleKernelEmitter.Pixel(from, "h", "x")} + c];");
                }
            }
        }

        w.Line();
    }

    public static void EmitPoolGrad(CodeWriter w, PoolGradPlan g, string stride)
    {
        PoolPlan f = g.Forward;
        TensorPlace i = f.Input, o = f.Output, dy = g.GradOutput, dx = g.GradInput;
        w.Line($"// {g.Comment}");
        using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        {
            w.Line($"float* x = arena + n * {stride} + {i.Offset};");
            w.Line($"float* y = arena + n * {stride} + {o.Offset};");
            w.Line($"float* gy = arena + n * {stride} + {dy.Offset};");
            w.Line($"float* gx = arena + n * {stride} + {dx.Offset};");
            if (!g.Accumulate)
            {
                w.Line($"new global::System.Span<float>(gx, {dx.Floats}).Clear(); // windows add into it");
            }

            using (w.Block($"for (int oh = 0; oh < {o.H}; oh++)"))
            using (w.Block($"for (int ow = 0; ow < {o.W}; ow++)"))
            using (w.Block($"for (int c = 0; c < {o.C}; c++)"))
            {
                w.Line($"float g = gy[{SimpleKernelEmitter.Pixel(dy, "oh", "ow")} + c];");
                w.Line($"int h0 = oh * {f.Stride} - {f.Padding}, w0 = ow * {f.Stride} - {f.Padding};");
                if (f.Pool == PoolKind.Max)
                {
                    // PyTorch sends the gradient to the first maximum of the window.
                    w.Line($"float best = y[{SimpleKernelEmitter.Pixel(o, "oh", "ow")} + c];");
                    w.Line("bool done = false;");
                    using (w.Block($"for (int ih = global::System.Math.Max(h0, 0); ih < global::System.Math.Min(h0 + {f.Kernel}, {i.H}) && !done; ih++)"))
                    using (w.Block($"for (int iw = global::System.Math.Max(w0, 0); iw < global::System.Math.Min(w0 + {f.Kernel}, {i.W}) && !done; iw++)"))
                    using (w.Block($"if (x[{SimpleKernelEmitter.Pixel(i, "ih", "iw")} + c] == best)"))
                    {
                        w.Line($"gx[{SimpleKernelEmitter.Pixel(dx, "ih", "iw")} + c] += g;");
                        w.Line("done = true;");
                    }
                }
                else
                {
                    w.Line($"g *= {CodeWriter.F(1f / (f.Kernel * f.Kernel))};");
                    using (w.Block($"for (int ih = global::System.Math.Max(h0, 0); ih < global::System.Math.Min(h0 + {f.Kernel}, {i.H}); ih++)"))
                    using (w.Block($"for (int iw = global::System.Math.Max(w0, 0); iw < global::System.Math.Min(w0 + {f.Kernel}, {i.W}); iw++)"))
                    {
                        w.Line($"gx[{SimpleKernelEmitter.Pixel(dx, "ih", "iw")} + c] += g;");
                    }
                }
            }
        }

        w.Line();
    }

    public static void EmitSoftmaxGrad(CodeWriter w, SoftmaxGradPlan g, string stride)
    {
        SoftmaxPlan f = g.Forward;
        w.Line($"// {g.Comment}");
        if (f.Log)
        {
            using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
            using (w.Block("for (int n = 0; n < batch; n++)"))
            {
                w.Line($"float* sample = arena + n * {stride};");
                w.Line($"global::GraphCompiler.Kernels.SoftmaxKernel.LogSoftmaxBackward(sample + {f.Output.Offset}, sample + {g.GradOutput.Offset}, sample + {g.GradInput.Offset}, {f.Rows}, {f.Length}, {(g.Accumulate ? "true" : "false")});");
            }

            w.Line();
            return;
        }

        using (w.Block($"internal static unsafe void {g.Name}{GradientEmitter.Signature}"))
        using (w.Block("for (int n = 0; n < batch; n++)"))
        using (w.Block($"for (int row = 0; row < {f.Rows}; row++)"))
        {
            w.Line($"float* y = arena + n * {stride} + {f.Output.Offset} + row * {f.Length};");
            w.Line($"float* gy = arena + n * {stride} + {g.GradOutput.Offset} + row * {f.Length};");
            w.Line($"float* gx = arena + n * {stride} + {g.GradInput.Offset} + row * {f.Length};");
            w.Line("float sum = 0f;");
            using (w.Block($"for (int i = 0; i < {f.Length}; i++)"))
            {
                w.Line("sum += gy[i] * y[i];");
            }

            using (w.Block($"for (int i = 0; i < {f.Length}; i++)"))
            {
                w.Line($"gx[i] {Assign(g.Accumulate)} y[i] * (gy[i] - sum);");
            }
        }

        w.Line();
    }
}
