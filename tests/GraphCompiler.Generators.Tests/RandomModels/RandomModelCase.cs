using System.Globalization;
using System.Text;
using R = GraphCompiler.Tests.Reference.ScalarReference;

namespace GraphCompiler.Generators.Tests.RandomModels;

public enum Activation { None, Relu, Tanh, Sigmoid }

public enum Head { None, Softmax, LogSoftmax }

/// <summary>nn.Conv2d hyperparameters.</summary>
public sealed record ConvLayer(int In, int Out, int Kernel, int Stride, int Padding, int Dilation, bool Bias)
{
    public int OutputSize(int size) => R.ConvOutputSize(size, Kernel, Stride, Padding, Dilation);

    public string Attribute => string.Create(CultureInfo.InvariantCulture,
        $"[Conv2d({In}, {Out}, Kernel = {Kernel}, Stride = {Stride}, Padding = {Padding}, Dilation = {Dilation}{(Bias ? "" : ", Bias = false")})]");
}

/// <summary>nn.MaxPool2d / nn.AvgPool2d; a <see cref="Stride"/> of 0 is left out of the attribute (PyTorch's default: the kernel).</summary>
public sealed record PoolLayer(bool Max, int Kernel, int Stride, int Padding)
{
    public int EffectiveStride => Stride == 0 ? Kernel : Stride;

    public int OutputSize(int size) => R.PoolOutputSize(size, Kernel, EffectiveStride, Padding);

    public string Attribute => string.Create(CultureInfo.InvariantCulture,
        $"[{(Max ? "MaxPool2d" : "AvgPool2d")}({Kernel}{(Stride == 0 ? "" : $", Stride = {Stride}")}{(Padding == 0 ? "" : $", Padding = {Padding}")})]");
}

/// <summary>nn.Linear hyperparameters.</summary>
public sealed record LinearLayer(int In, int Out, bool Bias)
{
    public string Attribute => string.Create(CultureInfo.InvariantCulture, $"[Linear({In}, {Out}{(Bias ? "" : ", Bias = false")})]");
}

/// <summary>
/// One randomly drawn model: conv1 [act] [pool] [conv2 [act]] Flatten|Reshape fc1 [act] [fc2] [softmax | log-softmax],
/// with the batches it runs. <see cref="ToString"/> prints everything needed to reproduce a failure.
/// </summary>
public sealed record RandomModelCase(
    int Seed,
    int Index,
    int InChannels,
    int Height,
    int Width,
    ConvLayer Conv1,
    Activation Act1,
    PoolLayer? Pool,
    ConvLayer? Conv2,
    Activation Act2,
    bool FlattenByReshape,
    LinearLayer Fc1,
    Activation Act3,
    LinearLayer? Fc2,
    Head Head,
    int Batch,
    int MaxBatch)
{
    public string ClassName => "RandomModel" + Index.ToString(CultureInfo.InvariantCulture);

    public string FullName => RandomModelSet.Namespace + "." + ClassName;

    public int InputSize => InChannels * Height * Width;

    public int OutputSize => (Fc2 ?? Fc1).Out;

    /// <summary>[C, H, W] after conv1, the pool and conv2.</summary>
    public (int C, int H, int W) FeatureShape
    {
        get
        {
            (int c, int h, int w) = (Conv1.Out, Conv1.OutputSize(Height), Conv1.OutputSize(Width));
            if (Pool is not null) (h, w) = (Pool.OutputSize(h), Pool.OutputSize(w));
            if (Conv2 is not null) (c, h, w) = (Conv2.Out, Conv2.OutputSize(h), Conv2.OutputSize(w));
            return (c, h, w);
        }
    }

    /// <summary>Draws case <paramref name="index"/> of the set with seed <paramref name="seed"/>; each case has its own stream.</summary>
    public static RandomModelCase Draw(int seed, int index)
    {
        var r = new Random(unchecked(seed * 1_000_003 + index * 7_919)); // not HashCode: it is salted per process
        int cin = r.Next(1, 6);

        // conv1 first, then an input size it fits (with up to 10 extra pixels, so that strides leave remainders).
        int k1 = r.Next(1, 5), d1 = r.Next(1, 3), p1 = r.Next(0, 3), s1 = r.Next(1, 4);
        int minSize = Math.Max(1, d1 * (k1 - 1) + 1 - 2 * p1);
        int height = minSize + r.Next(0, 11), width = minSize + r.Next(0, 11);
        var conv1 = new ConvLayer(cin, r.Next(1, 41), k1, s1, p1, d1, r.Next(4) != 0);
        int c = conv1.Out, h = conv1.OutputSize(height), w = conv1.OutputSize(width);
        Activation act1 = RandomActivation(r);

        PoolLayer? pool = null;
        if (r.Next(3) != 0)
        {
            pool = r.Next(2) == 0
                // fusable into the conv epilogue when the output tiles exactly: stride = kernel, no padding
                ? new PoolLayer(r.Next(2) == 0, r.Next(2, 4), 0, 0)
                : RandomPool(r);
            if (!Fits(h, w, pool.Kernel, pool.Padding)) pool = null;
            else (h, w) = (pool.OutputSize(h), pool.OutputSize(w));
        }

        ConvLayer? conv2 = null;
        Activation act2 = Activation.None;
        if (r.Next(5) < 2)
        {
            for (int attempt = 0; attempt < 20 && conv2 is null; attempt++)
            {
                var candidate = new ConvLayer(c, r.Next(1, 25), r.Next(1, 4), r.Next(1, 3), r.Next(0, 3), r.Next(1, 3), r.Next(4) != 0);
                if (Fits(h, w, candidate.Dilation * (candidate.Kernel - 1) + 1, candidate.Padding)) conv2 = candidate;
            }
            if (conv2 is not null)
            {
                (c, h, w) = (conv2.Out, conv2.OutputSize(h), conv2.OutputSize(w));
                act2 = RandomActivation(r);
            }
        }

        int features = c * h * w;
        var fc1 = new LinearLayer(features, r.Next(1, 21), r.Next(4) != 0);
        Activation act3 = RandomActivation(r);
        LinearLayer? fc2 = r.Next(2) == 0 ? new LinearLayer(fc1.Out, r.Next(1, 21), r.Next(4) != 0) : null;
        var head = (Head)r.Next(3);
        // Batches up to 13 reach every sample tile of every width (8, 6, 4, 3 and the one-sample remainder).
        int batch = r.Next(1, 11);
        return new RandomModelCase(seed, index, cin, height, width, conv1, act1, pool, conv2, act2, r.Next(2) == 0,
            fc1, act3, fc2, head, batch, batch + r.Next(0, 4));

        static bool Fits(int h, int w, int window, int padding) => h + 2 * padding >= window && w + 2 * padding >= window;
    }

    private static Activation RandomActivation(Random r) => (Activation)r.Next(4);

    private static PoolLayer RandomPool(Random r)
    {
        int kernel = r.Next(1, 5);
        return new PoolLayer(r.Next(2) == 0, kernel, r.Next(0, 4), r.Next(0, kernel / 2 + 1)); // PyTorch: padding <= kernel / 2
    }

    /// <summary>The [Model] declaration.</summary>
    public string Source()
    {
        var s = new StringBuilder();
        s.AppendLine("[Model]");
        s.AppendLine($"public partial class {ClassName}");
        s.AppendLine("{");
        s.AppendLine($"    {Conv1.Attribute} readonly Layer conv1;");
        if (Pool is not null) s.AppendLine($"    {Pool.Attribute} readonly Layer pool;");
        if (Conv2 is not null) s.AppendLine($"    {Conv2.Attribute} readonly Layer conv2;");
        s.AppendLine($"    {Fc1.Attribute} readonly Layer fc1;");
        if (Fc2 is not null) s.AppendLine($"    {Fc2.Attribute} readonly Layer fc2;");
        s.AppendLine();
        s.AppendLine("    [Forward]");
        s.AppendLine(CultureInfo.InvariantCulture, $"    Tensor Forward([Shape({InChannels}, {Height}, {Width})] Tensor x)");
        s.AppendLine("    {");
        s.AppendLine($"        x = {Apply(Act1, "conv1(x)")};");
        if (Pool is not null) s.AppendLine("        x = pool(x);");
        if (Conv2 is not null) s.AppendLine($"        x = {Apply(Act2, "conv2(x)")};");
        s.AppendLine(FlattenByReshape
            ? string.Create(CultureInfo.InvariantCulture, $"        x = Reshape(x, -1, {Fc1.In});")
            : "        x = Flatten(x);");
        s.AppendLine($"        x = {Apply(Act3, "fc1(x)")};");
        if (Fc2 is not null) s.AppendLine("        x = fc2(x);");
        s.AppendLine(Head == Head.None ? "        return x;" : $"        return {Head}(x);");
        s.AppendLine("    }");
        s.AppendLine("}");
        return s.ToString();
    }

    private static string Apply(Activation activation, string expression) =>
        activation == Activation.None ? expression : $"{activation}({expression})";

    /// <summary>
    /// The model on a batch of <paramref name="n"/> samples, computed with the scalar reference ops from the
    /// parameters that <paramref name="parameter"/> returns by PyTorch name.
    /// </summary>
    public float[] Reference(float[] x, int n, Func<string, float[]> parameter)
    {
        float[] h = Conv(x, n, InChannels, Height, Width, Conv1, "conv1", parameter);
        (int c, int hh, int ww) = (Conv1.Out, Conv1.OutputSize(Height), Conv1.OutputSize(Width));
        h = Activate(h, Act1);
        if (Pool is not null)
        {
            h = Pool.Max
                ? R.MaxPool2d(h, n, c, hh, ww, Pool.Kernel, Pool.EffectiveStride, Pool.Padding)
                : R.AvgPool2d(h, n, c, hh, ww, Pool.Kernel, Pool.EffectiveStride, Pool.Padding);
            (hh, ww) = (Pool.OutputSize(hh), Pool.OutputSize(ww));
        }
        if (Conv2 is not null)
        {
            h = Activate(Conv(h, n, c, hh, ww, Conv2, "conv2", parameter), Act2);
            (c, hh, ww) = (Conv2.Out, Conv2.OutputSize(hh), Conv2.OutputSize(ww));
        }
        // Flatten and Reshape(-1, C*H*W) leave NCHW data as it is.
        h = Activate(R.Linear(h, n, Fc1.In, parameter("fc1.weight"), Fc1.Out, Fc1.Bias ? parameter("fc1.bias") : null), Act3);
        if (Fc2 is not null)
            h = R.Linear(h, n, Fc2.In, parameter("fc2.weight"), Fc2.Out, Fc2.Bias ? parameter("fc2.bias") : null);
        return Head switch
        {
            Head.Softmax => R.Softmax(h, n, OutputSize),
            Head.LogSoftmax => R.LogSoftmax(h, n, OutputSize),
            _ => h,
        };
    }

    private static float[] Conv(float[] x, int n, int c, int h, int w, ConvLayer conv, string name, Func<string, float[]> parameter) =>
        R.Conv2d(x, n, c, h, w, parameter(name + ".weight"), conv.Out, conv.Kernel, conv.Bias ? parameter(name + ".bias") : null,
            conv.Stride, conv.Padding, conv.Dilation);

    private static float[] Activate(float[] x, Activation activation) => activation switch
    {
        Activation.Relu => R.Relu(x),
        Activation.Tanh => R.Tanh(x),
        Activation.Sigmoid => R.Sigmoid(x),
        _ => x,
    };

    /// <summary>The seed to rerun with, the shapes, the batches and the declaration itself.</summary>
    public override string ToString()
    {
        (int c, int h, int w) = FeatureShape;
        return string.Create(CultureInfo.InvariantCulture,
            $"Random model case {Index} of seed {Seed} (rerun with {RandomModelSet.SeedVariable}={Seed}): input [{InChannels}, {Height}, {Width}], " +
            $"features [{c}, {h}, {w}], output [{OutputSize}], batch {Batch}, maxBatch {MaxBatch}.{Environment.NewLine}{Source()}");
    }
}
