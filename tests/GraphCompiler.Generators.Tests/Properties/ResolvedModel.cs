using GraphCompiler.Tests.Reference;
using D = GraphCompiler.Tests.Reference.DoubleReference;
using R = GraphCompiler.Tests.Reference.ScalarReference;

namespace GraphCompiler.Generators.Tests.Properties;

public sealed record ResolvedPool(bool Max, int Kernel, int Stride, int Padding, int OutH, int OutW)
{
    /// <summary>PyTorch's default stride is the kernel; <see cref="Stride"/> 0 leaves it out of the attribute.</summary>
    public int EffectiveStride => Stride == 0 ? Kernel : Stride;
}

public sealed record ResolvedConv(
    int In, int Out, int Kernel, int Stride, int Padding, int Dilation, bool Bias, bool PositionalKernel, Act Act, Join Join,
    int H, int W, int OutH, int OutW, ResolvedPool? Pool);

public sealed record ResolvedDense(int In, int Out, bool Bias, Act Act, Join Join);

/// <summary>The recurrent part with its sizes; <see cref="Step"/> is the step an index readout reads, from the start.</summary>
public sealed record ResolvedRecurrent(RecurrentLayer Layer, int Steps, int Features, int Step, int WrittenIndex, int OutFeatures)
{
    public bool Lstm => Layer.Lstm;
    public int Hidden => Layer.Hidden;
    public int Layers => Layer.Layers;
    public Readout Readout => Layer.Readout;
    public bool IndexReadout => Readout is Readout.Last or Readout.Index or Readout.FromEnd or Readout.IndexRest or Readout.SelectCall or Readout.OutputMember;
}

/// <summary>
/// A <see cref="Declaration"/> made consistent: every size is what arrives at the layer, so the declaration is
/// valid; <see cref="ModelWriter"/> prints it (with or without a mistake) and <see cref="Reference"/> computes it.
/// </summary>
public sealed class ResolvedModel
{
    private ResolvedModel(Declaration declaration, string className)
    {
        Declaration = declaration;
        ClassName = className;
    }

    public Declaration Declaration { get; }
    public string ClassName { get; }
    public InputForm Form => Declaration.Form;
    public bool IsImage => Form is InputForm.Image or InputForm.FlatToImage;
    public bool IsSequence => Form is InputForm.Sequence or InputForm.FlatToSequence;
    public int[] InputShape { get; private set; } = [];
    public IReadOnlyList<ResolvedConv> Convs { get; private set; } = [];
    public ResolvedRecurrent? Recurrent { get; private set; }
    public IReadOnlyList<ResolvedDense> Dense { get; private set; } = [];
    public Head Head => Declaration.Head;

    /// <summary>Features that reach the first linear layer.</summary>
    public int Features { get; private set; }

    public int InputSize => InputShape.Aggregate(1, (a, b) => a * b);
    public int OutputSize => Dense[^1].Out;

    public static ResolvedModel Resolve(Declaration d, string className)
    {
        var m = new ResolvedModel(d, className);
        int features;
        if (m.IsImage)
        {
            int c = d.Channels, h = d.Height, w = d.Width;
            var convs = new List<ResolvedConv>();
            foreach (ConvBlock b in d.Convs)
            {
                int kernel = b.Kernel, dilation = b.Dilation;
                if (!Fits(h, w, dilation * (kernel - 1) + 1, b.Padding))
                {
                    (kernel, dilation) = (1, 1);
                }

                int oh = R.ConvOutputSize(h, kernel, b.Stride, b.Padding, dilation), ow = R.ConvOutputSize(w, kernel, b.Stride, b.Padding, dilation);
                ResolvedPool? pool = null;
                if (b.Pool != 0)
                {
                    int padding = Math.Min(b.PoolPadding, b.PoolKernel / 2);
                    if (Fits(oh, ow, b.PoolKernel, padding))
                    {
                        int stride = b.PoolStride == 0 ? b.PoolKernel : b.PoolStride;
                        pool = new ResolvedPool(b.Pool == 1, b.PoolKernel, b.PoolStride, padding,
                            R.PoolOutputSize(oh, b.PoolKernel, stride, padding), R.PoolOutputSize(ow, b.PoolKernel, stride, padding));
                    }
                }

                convs.Add(new ResolvedConv(c, b.Out, kernel, b.Stride, b.Padding, dilation, b.Bias, b.PositionalKernel, b.Act, b.Join, h, w, oh, ow, pool));
                (c, h, w) = (b.Out, pool?.OutH ?? oh, pool?.OutW ?? ow);
            }

            m.Convs = convs;
            m.InputShape = d.Form == InputForm.Image ? [d.Channels, d.Height, d.Width] : [d.Channels * d.Height * d.Width];
            features = c * h * w;
        }
        else if (m.IsSequence)
        {
            RecurrentLayer r = d.Recurrent;
            int steps = d.Steps;
            int written = r.Readout switch
            {
                Readout.Last => 1,
                Readout.FromEnd => 1 + r.IndexSeed % steps,
                _ => r.IndexSeed % (2 * steps) - steps,
            };
            int step = r.Readout is Readout.Last or Readout.FromEnd ? steps - written : written < 0 ? steps + written : written;
            int outFeatures = r.Readout switch
            {
                Readout.FlattenOutput => steps * r.Hidden,
                Readout.FlattenH or Readout.HPlusC => r.Layers * r.Hidden,
                _ => r.Hidden,
            };
            m.Recurrent = new ResolvedRecurrent(r, steps, d.Features, step, written, outFeatures);
            m.InputShape = d.Form == InputForm.Sequence ? [steps, d.Features] : [steps * d.Features];
            features = outFeatures;
        }
        else
        {
            m.InputShape = [d.Features];
            features = d.Features;
        }

        m.Features = features;
        var dense = new List<ResolvedDense>();
        foreach (DenseLayer l in d.Dense)
        {
            dense.Add(new ResolvedDense(features, l.Out, l.Bias, l.Act, l.Join));
            features = l.Out;
        }

        m.Dense = dense;
        return m;

        static bool Fits(int h, int w, int window, int padding) => h + 2 * padding >= window && w + 2 * padding >= window;
    }

    /// <summary>The model on a batch of <paramref name="n"/> samples in double precision, from the parameters by PyTorch name.</summary>
    public float[] Reference(float[] input, int n, Func<string, double[]> p)
    {
        double[] x = [.. input.Select(v => (double)v)];
        if (IsImage)
        {
            for (int i = 0; i < Convs.Count; i++)
            {
                ResolvedConv c = Convs[i];
                double[] Conv(string name) => D.Conv2d(x, n, c.In, c.H, c.W, p(name + ".weight"), c.Out, c.Kernel,
                    c.Bias ? p(name + ".bias") : null, c.Stride, c.Padding, c.Dilation);
                double[] y = Combine(Conv($"conv{i}"), c.Join, () => Conv($"conv{i}b"));
                x = Activate(y, c.Act);
                if (c.Pool is { } pool)
                {
                    x = D.Pool2d(x, n, c.Out, c.OutH, c.OutW, pool.Kernel, pool.EffectiveStride, pool.Padding, pool.Max);
                }
            }
        }
        else if (Recurrent is { } r)
        {
            double[]? h0 = null, c0 = null;
            if (r.Layer.Init == InitialState.FromInput)
            {
                int inputs = r.Steps * r.Features, states = r.Layers * r.Hidden;
                h0 = D.Tanh(D.Linear(x, n, inputs, p("hinit.weight"), states, p("hinit.bias")));
                c0 = r.Lstm ? D.Linear(x, n, inputs, p("cinit.weight"), states, p("cinit.bias")) : null;
            }

            (double[] output, double[] hn, double[] cn) = r.Lstm
                ? D.Lstm(x, n, r.Steps, r.Features, r.Hidden, r.Layers, r.Layer.Bias, "rnn", p, h0, c0)
                : Gru(D.Gru(x, n, r.Steps, r.Features, r.Hidden, r.Layers, r.Layer.Bias, "rnn", p, h0));
            x = r.Readout switch
            {
                Readout.FlattenOutput => output,
                Readout.FlattenH => hn,
                Readout.HPlusC => r.Lstm ? D.Add(hn, cn) : hn,
                _ => D.Select(output, n, r.Steps, r.Hidden, r.Step),
            };
        }

        foreach ((ResolvedDense l, int i) in Dense.Select((l, i) => (l, i)))
        {
            double[] Linear(string name) => D.Linear(x, n, l.In, p(name + ".weight"), l.Out, l.Bias ? p(name + ".bias") : null);
            x = Activate(Combine(Linear($"fc{i}"), l.Join, () => Linear($"fc{i}b")), l.Act);
        }

        if (Head != Head.None)
        {
            x = D.Softmax(x, n, OutputSize, log: Head is Head.LogSoftmax or Head.LogSoftmaxDimOne);
        }

        return [.. x.Select(v => (float)v)];

        static (double[], double[], double[]) Gru((double[] Output, double[] H) r) => (r.Output, r.H, r.H);
    }

    private static double[] Combine(double[] a, Join join, Func<double[]> twin) => join switch
    {
        Join.Add => D.Add(a, twin()),
        Join.Mul => D.Mul(a, twin()),
        _ => a,
    };

    private static double[] Activate(double[] x, Act act) => act switch
    {
        Act.Relu => D.Relu(x),
        Act.Tanh => D.Tanh(x),
        Act.Sigmoid => D.Sigmoid(x),
        _ => x,
    };

    /// <summary>Random inputs for the model (a thin wrapper, so that tests need not know the reference data helpers).</summary>
    public float[] Input(int n, int seed) => TestData.Random(n * InputSize, seed);
}
