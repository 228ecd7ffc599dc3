using Xunit;

namespace GraphCompiler.Tests.Training;

public class OptimizerTests
{
    private const int Steps = 6;

    public static TheoryData<string> Kinds => new() { "sgd", "sgd-momentum", "sgd-dampening", "sgd-nesterov", "adam", "adam-decay", "adamw" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Matches_the_PyTorch_algorithm_in_double(string kind)
    {
        ParameterSet parameters = OddLength();
        double[] p = parameters.ReadAll().ToArray().Select(v => (double)v).ToArray();
        Optimizer optimizer = Create(kind, parameters);
        var reference = new Reference(kind, p.Length);
        for (int t = 1; t <= Steps; t++)
        {
            float[] g = TestParameters.RandomGradient(parameters, seed: 100 + t);
            optimizer.Step(g);
            reference.Step(p, g, t);
        }

        ReadOnlySpan<float> actual = parameters.ReadAll();
        for (int i = 0; i < p.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - p[i]) <= 2e-6 + 2e-6 * Math.Abs(p[i]), $"{kind}: element {i}: {actual[i]} vs {p[i]}");
        }

        Assert.Equal(Steps, optimizer.StepCount);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_vector_width_gives_the_scalar_result_bit_for_bit(string kind)
    {
        // 63 floats: 48 through the 512-bit loop, 8 through the 256-bit one, 4 through the 128-bit one, 3 scalar.
        // A float reference with the same operations in the same order must match exactly on every element.
        ParameterSet parameters = OddLength();
        float[] p = parameters.ReadAll().ToArray();
        Optimizer optimizer = Create(kind, parameters);
        var state = new float[2][] { new float[p.Length], new float[p.Length] };
        for (int t = 1; t <= 3; t++)
        {
            float[] g = TestParameters.RandomGradient(parameters, seed: 200 + t);
            optimizer.Step(g);
            ScalarFloatStep(kind, p, g, state, t, optimizer.LearningRate);
        }

        Assert.Equal(p, parameters.ReadAll().ToArray());
    }

    [Fact]
    public void Sgd_hand_computed_values()
    {
        Assert.Equal([0.9f, 0.71f], Run(new Sgd(One(), 0.1f, momentum: 0.9f)), Tolerance);
        Assert.Equal([0.81f, 0.539f], Run(new Sgd(One(), 0.1f, momentum: 0.9f, nesterov: true)), Tolerance);
        // First step copies the gradient (no dampening), as PyTorch: b = 1, then b = 0.9 + 0.5 = 1.4.
        Assert.Equal([0.9f, 0.76f], Run(new Sgd(One(), 0.1f, momentum: 0.9f, dampening: 0.5f)), Tolerance);
        // Weight decay adds wd * p: 1 - 0.1 * (1 + 0.5) = 0.85.
        Assert.Equal(0.85f, Run(new Sgd(One(), 0.1f, weightDecay: 0.5f))[0], Tolerance);

        static float[] Run(Optimizer o)
        {
            var result = new float[2];
            float[] g = Fill(o.Parameters, 1f);
            for (int i = 0; i < 2; i++)
            {
                o.Step(g);
                result[i] = o.Parameters.ReadAll()[0];
            }

            return result;
        }
    }

    [Fact]
    public void Adam_first_step_moves_by_the_learning_rate_and_AdamW_decays_the_weight()
    {
        var adam = new Adam(One(), learningRate: 0.1f);
        adam.Step(Fill(adam.Parameters, -3f));
        Assert.Equal(1.1f, adam.Parameters.ReadAll()[0], 1e-6f);

        var adamW = new AdamW(One(), learningRate: 0.1f, weightDecay: 0.1f);
        adamW.Step(Fill(adamW.Parameters, 2f));
        Assert.Equal(1f * (1f - 0.01f) - 0.1f, adamW.Parameters.ReadAll()[0], 1e-6f);

        // Adam's coupled decay enters the gradient: with g = -p the effective gradient is 0 for wd = 1.
        var coupled = new Adam(One(), learningRate: 0.1f, weightDecay: 1f);
        coupled.Step(Fill(coupled.Parameters, -1f));
        Assert.Equal(1f, coupled.Parameters.ReadAll()[0]);
        Assert.Equal(["exp_avg", "exp_avg_sq"], adam.State.Select(s => s.Name));
        Assert.Equal("AdamW", adamW.Name);
    }

    [Fact]
    public void Step_marks_the_parameters_modified_once_and_checks_the_length()
    {
        ParameterSet parameters = TestParameters.Small();
        var sgd = new Sgd(parameters, 0.1f);
        int version = parameters.Version;
        sgd.Step(new float[parameters.BufferLength]);
        Assert.Equal(version + 1, parameters.Version);
        var e = Assert.Throws<ArgumentException>(() => sgd.Step(new float[parameters.BufferLength - 1]));
        Assert.Contains("SGD.Step", e.Message);
        Assert.Equal(1, sgd.StepCount);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Restored_state_continues_exactly_like_the_original(string kind)
    {
        ParameterSet a = TestParameters.Small(3);
        Optimizer original = Create(kind, a);
        for (int t = 0; t < 3; t++)
        {
            original.Step(TestParameters.RandomGradient(a, t));
        }

        ParameterSet b = TestParameters.Small(99);
        b.CopyFrom(a);
        Optimizer restored = Create(kind, b);
        Assert.Equal(original.State.Select(s => s.Name), restored.State.Select(s => s.Name));
        for (int i = 0; i < original.State.Count; i++)
        {
            original.State[i].Buffer.Span.CopyTo(restored.State[i].Buffer.Span);
        }

        restored.StepCount = original.StepCount;
        for (int t = 3; t < 6; t++)
        {
            float[] g = TestParameters.RandomGradient(a, t);
            original.Step(g);
            restored.Step(g);
        }

        Assert.Equal(a.ReadAll().ToArray(), b.ReadAll().ToArray());

        restored.Reset();
        Assert.Equal(0, restored.StepCount);
        Assert.All(restored.State, s => Assert.All(s.Buffer.Span.ToArray(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void Invalid_hyperparameters_are_rejected()
    {
        ParameterSet p = One();
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(p, -1f));
        Assert.Throws<ArgumentException>(() => new Sgd(p, 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd(p, 0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p, beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(p, epsilon: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p) { StepCount = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(p) { LearningRate = float.NaN });
    }

    [Fact]
    public void Schedule_sets_the_learning_rate_before_each_step()
    {
        var sgd = new Sgd(One(), 1f) { Schedule = new StepDecaySchedule(0.1f, stepSize: 1, gamma: 0.5f) };
        float[] g = Fill(sgd.Parameters, 1f);
        sgd.Step(g);
        Assert.Equal(0.9f, sgd.Parameters.ReadAll()[0], 1e-6f);
        sgd.Step(g);
        Assert.Equal(0.85f, sgd.Parameters.ReadAll()[0], 1e-6f);
        Assert.Equal(0.05f, sgd.LearningRate, 1e-7f);
    }

    [Fact]
    public void Step_decay_and_warmup_cosine_values()
    {
        var step = new StepDecaySchedule(0.1f, stepSize: 3, gamma: 0.5f);
        Assert.Equal([0.1f, 0.1f, 0.05f, 0.025f], new[] { 0, 2, 3, 6 }.Select(step.LearningRate), Tolerance);

        var cosine = new WarmupCosineSchedule(1f, warmupSteps: 10, totalSteps: 110);
        Assert.Equal([0f, 0.5f, 1f, 0.5f, 0f, 0f], new[] { 0, 5, 10, 60, 110, 500 }.Select(cosine.LearningRate), Tolerance);
        var floored = new WarmupCosineSchedule(1f, warmupSteps: 0, totalSteps: 100, minimum: 0.1f);
        Assert.Equal([1f, 0.55f, 0.1f], new[] { 0, 50, 100 }.Select(floored.LearningRate), Tolerance);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosineSchedule(1f, 10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecaySchedule(1f, 0));
    }

    [Fact]
    public void Clipping_uses_the_global_norm_like_PyTorch()
    {
        float[] g = new float[37];
        g[0] = 3f;
        g[36] = 4f;
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm(g, 10f));
        Assert.Equal(3f, g[0]); // under the limit: unchanged
        Assert.Equal(5f, GradientClipping.ClipByGlobalNorm(g, 1f));
        Assert.Equal(3f / (5f + 1e-6f), g[0], 1e-7f);
        Assert.Equal(4f / (5f + 1e-6f), g[36], 1e-7f);

        var rng = new SeededRandom(5);
        var big = new float[100_003];
        double sum = 0;
        for (int i = 0; i < big.Length; i++)
        {
            big[i] = rng.NextNormal();
            sum += (double)big[i] * big[i];
        }

        Assert.Equal(Math.Sqrt(sum), GradientClipping.GlobalNorm(big), Math.Sqrt(sum) * 1e-6);
        var buffer = new AlignedBuffer(3);
        buffer.Span[1] = -2f;
        Assert.Equal(2f, GradientClipping.GlobalNorm(buffer));
    }

    [Fact]
    public void Steps_losses_and_clipping_allocate_nothing()
    {
        ParameterSet parameters = TestParameters.Create(1, ("w", [40, 33]), ("b", [40]));
        var grads = new AlignedBuffer(parameters.BufferLength);
        TestParameters.RandomGradient(parameters, 1).CopyTo(grads.Span);
        Optimizer[] optimizers =
        [
            new Sgd(parameters, 0.01f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f),
            new Adam(parameters, weightDecay: 1e-4f) { Schedule = new WarmupCosineSchedule(1e-3f, 5, 100) },
            new AdamW(parameters) { Schedule = new StepDecaySchedule(1e-3f, 10) },
        ];
        var logits = new float[32 * 10];
        var gradient = new float[logits.Length];
        var labels = new int[32];
        var targets = new float[logits.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = i % 10;
        }

        void Work()
        {
            foreach (Optimizer o in optimizers)
            {
                o.Step(grads);
                o.Step(grads.Span);
            }

            GradientClipping.ClipByGlobalNorm(grads, 100f);
            Losses.CrossEntropy(logits, labels, gradient, Reduction.Mean, 0.1f);
            Losses.MeanSquaredError(logits, targets, gradient);
            Metrics.CountCorrect(logits, labels);
        }

        for (int i = 0; i < 20; i++)
        {
            Work();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            Work();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static readonly FloatTolerance Tolerance = new(1e-6f);

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }

    private static ParameterSet OddLength() => TestParameters.Create(11, ("fc.weight", [7, 9]));

    private static ParameterSet One()
    {
        ParameterSet p = TestParameters.Create(0, ("w", [1]));
        p.Values.Fill(1f);
        return p;
    }

    private static float[] Fill(ParameterSet p, float value)
    {
        var g = new float[p.BufferLength];
        g.AsSpan().Fill(value);
        return g;
    }

    private static Optimizer Create(string kind, ParameterSet p) => kind switch
    {
        "sgd" => new Sgd(p, 0.05f, weightDecay: 0.01f),
        "sgd-momentum" => new Sgd(p, 0.05f, momentum: 0.9f, weightDecay: 0.01f),
        "sgd-dampening" => new Sgd(p, 0.05f, momentum: 0.8f, dampening: 0.3f),
        "sgd-nesterov" => new Sgd(p, 0.05f, momentum: 0.9f, nesterov: true, weightDecay: 0.02f),
        "adam" => new Adam(p, 0.01f),
        "adam-decay" => new Adam(p, 0.01f, beta1: 0.8f, beta2: 0.99f, epsilon: 1e-6f, weightDecay: 0.1f),
        "adamw" => new AdamW(p, 0.01f, weightDecay: 0.1f),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The algorithms as PyTorch's documentation writes them, in double.</summary>
    private sealed class Reference(string kind, int length)
    {
        private readonly double[] _m = new double[length], _v = new double[length];

        public void Step(double[] p, float[] grad, int t)
        {
            switch (kind)
            {
                case "sgd": Sgd(p, grad, t, 0.05, 0, 0, 0.01, false); break;
                case "sgd-momentum": Sgd(p, grad, t, 0.05, 0.9f, 0, 0.01f, false); break;
                case "sgd-dampening": Sgd(p, grad, t, 0.05, 0.8f, 0.3f, 0, false); break;
                case "sgd-nesterov": Sgd(p, grad, t, 0.05, 0.9f, 0, 0.02f, true); break;
                case "adam": Adam(p, grad, t, 0.01f, 0.9f, 0.999f, 1e-8f, 0, false); break;
                case "adam-decay": Adam(p, grad, t, 0.01f, 0.8f, 0.99f, 1e-6f, 0.1f, false); break;
                case "adamw": Adam(p, grad, t, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true); break;
            }
        }

        private void Sgd(double[] p, float[] grad, int t, double lr, double mu, double tau, double wd, bool nesterov)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double g = grad[i] + wd * p[i];
                if (mu != 0)
                {
                    _m[i] = t == 1 ? g : mu * _m[i] + (1 - tau) * g;
                    g = nesterov ? g + mu * _m[i] : _m[i];
                }

                p[i] -= lr * g;
            }
        }

        private void Adam(double[] p, float[] grad, int t, double lr, double b1, double b2, double eps, double wd, bool decoupled)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double g = grad[i];
                if (decoupled)
                {
                    p[i] *= 1 - lr * wd;
                }
                else
                {
                    g += wd * p[i];
                }

                _m[i] = b1 * _m[i] + (1 - b1) * g;
                _v[i] = b2 * _v[i] + (1 - b2) * g * g;
                double mHat = _m[i] / (1 - Math.Pow(b1, t));
                double vHat = _v[i] / (1 - Math.Pow(b2, t));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
    }

    /// <summary>The kernels' scalar tail, written out: the same float operations in the same order.</summary>
    private static void ScalarFloatStep(string kind, float[] p, float[] g, float[][] state, int t, float lr)
    {
        Optimizer shape = Create(kind, One());
        for (int i = 0; i < p.Length; i++)
        {
            switch (shape)
            {
                case Sgd s when s.Momentum == 0f:
                {
                    float d = g[i] + s.WeightDecay * p[i];
                    p[i] = p[i] - lr * d;
                    break;
                }

                case Sgd s:
                {
                    float d = g[i] + s.WeightDecay * p[i];
                    float b = (t == 1 ? 0f : s.Momentum) * state[0][i] + (t == 1 ? 1f : 1f - s.Dampening) * d;
                    state[0][i] = b;
                    p[i] = p[i] - lr * ((s.Nesterov ? 1f : 0f) * d + (s.Nesterov ? s.Momentum : 1f) * b);
                    break;
                }

                case Adam a:
                {
                    bool decoupled = a is AdamW;
                    float pv = p[i];
                    float d = g[i] + (decoupled ? 0f : a.WeightDecay) * pv;
                    float m = state[0][i];
                    m += (1f - a.Beta1) * (d - m);
                    float v = a.Beta2 * state[1][i] + (1f - a.Beta2) * d * d;
                    state[0][i] = m;
                    state[1][i] = v;
                    float bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(a.Beta2, t));
                    float stepSize = (float)(lr / (1.0 - Math.Pow(a.Beta1, t)));
                    float scale = decoupled ? (float)(1.0 - (double)lr * a.WeightDecay) : 1f;
                    p[i] = pv * scale - stepSize * (m / (MathF.Sqrt(v) / bc2Sqrt + a.Epsilon));
                    break;
                }
            }
        }
    }
}
