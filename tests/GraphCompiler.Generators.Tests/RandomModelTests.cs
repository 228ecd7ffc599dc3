using System.Globalization;
using System.Text.RegularExpressions;
using GraphCompiler.Generators.Tests.Infrastructure;
using GraphCompiler.Generators.Tests.RandomModels;
using GraphCompiler.Tests.Reference;
using Xunit;
using R = GraphCompiler.Tests.Reference.ScalarReference;

namespace GraphCompiler.Generators.Tests;

/// <summary>
/// Randomly shaped models, compiled in memory by the generator and run, against the scalar reference: odd
/// sizes, strides, paddings, dilations, pools that fuse and pools that do not, every activation, flatten by
/// Flatten and by Reshape, both heads. The compiled code runs on whichever vector width this process has
/// (CI repeats the suite on each), so every width is checked the same way. A failure prints the case, its
/// declaration and the seed; <see cref="RandomModelSet.SeedVariable"/> and <see cref="RandomModelSet.CountVariable"/>
/// explore further.
/// </summary>
public class RandomModelTests(RandomModelSet set) : IClassFixture<RandomModelSet>
{
    private const double Rtol = 1e-4, Atol = 1e-5;

    public static TheoryData<int> CaseIndices => [.. Enumerable.Range(0, RandomModelSet.Count)];

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Random_model_matches_the_scalar_reference(int index)
    {
        RandomModelCase c = set.Cases[index];
        string context = c.ToString();
        string[] reported = [.. set.DiagnosticsOf(c.ClassName).Select(GeneratorRun.Format)];
        Assert.True(reported.Length == 0, $"{context}{Environment.NewLine}Reported for this model (the generator on its declaration, the compiler on its generated code):{Environment.NewLine}{string.Join(Environment.NewLine, reported)}");

        object model = set.Create(c.ClassName, c.MaxBatch, seed: 1000 + index);
        Assert.True(RandomModelSet.Constant(model, "InputSize") == c.InputSize && RandomModelSet.Constant(model, "OutputSize") == c.OutputSize,
            $"{context}{Environment.NewLine}InputSize/OutputSize are {RandomModelSet.Constant(model, "InputSize")}/{RandomModelSet.Constant(model, "OutputSize")}, expected {c.InputSize}/{c.OutputSize}");
        ForwardFunction forward = RandomModelSet.Forward(model);
        ParameterSet parameters = RandomModelSet.Parameters(model);
        float[] Parameter(string name) => parameters.Read(name).ToArray();

        // A full batch first: it also leaves the workspace dirty, so the second call shows any state kept between calls.
        float[] full = TestData.Random(c.MaxBatch * c.InputSize, seed: 31 * index + 1);
        var fullOutput = new float[c.MaxBatch * c.OutputSize];
        forward(full, fullOutput);
        Close.Assert(c.Reference(full, c.MaxBatch, Parameter), fullOutput, Rtol, Atol, $"{context}batch of {c.MaxBatch} (MaxBatch)");

        float[] x = TestData.Random(c.Batch * c.InputSize, seed: 31 * index + 2, scale: 2f);
        var y = new float[c.Batch * c.OutputSize];
        forward(x, y);
        Close.Assert(c.Reference(x, c.Batch, Parameter), y, Rtol, Atol, $"{context}batch of {c.Batch}, after the full batch");
    }

    [Fact]
    public void Random_cases_are_the_same_for_the_same_seed()
    {
        // Reproducing a failure from its printed seed depends on it.
        Assert.Equal(set.Cases, Enumerable.Range(0, set.Cases.Count).Select(i => RandomModelCase.Draw(RandomModelSet.Seed, i)));
    }

    // ---- Run-time checks of Forward ------------------------------------------------------------------------

    private const int ChecksInput = 32, ChecksOutput = 5, ChecksMaxBatch = 3;
    private const float Sentinel = -12345.5f;

    [Fact]
    public void Forward_rejects_an_input_that_is_not_a_whole_number_of_samples()
    {
        ForwardFunction forward = Checks(out _);
        float[] output = Filled(ChecksOutput);

        var e = Assert.Throws<ArgumentException>(() => forward(new float[ChecksInput + 1], output));

        Assert.Equal("input", e.ParamName);
        AssertMentions(e.Message, ChecksInput + 1, ChecksInput);
        AssertUntouched(output);
    }

    [Fact]
    public void Forward_rejects_an_empty_input()
    {
        ForwardFunction forward = Checks(out _);
        float[] output = Filled(ChecksOutput);

        var e = Assert.Throws<ArgumentException>(() => forward([], output));

        Assert.Equal("input", e.ParamName);
        AssertMentions(e.Message, 0, ChecksInput);
        AssertUntouched(output);
    }

    [Theory]
    [InlineData(2 * ChecksOutput - 1)]
    [InlineData(2 * ChecksOutput + 1)]
    [InlineData(ChecksOutput)]
    public void Forward_rejects_an_output_of_the_wrong_length(int outputLength)
    {
        ForwardFunction forward = Checks(out _);
        float[] output = Filled(outputLength);

        var e = Assert.Throws<ArgumentException>(() => forward(TestData.Random(2 * ChecksInput, seed: 5), output));

        Assert.Equal("output", e.ParamName);
        AssertMentions(e.Message, outputLength, 2 * ChecksOutput);
        AssertUntouched(output);
    }

    [Fact]
    public void Forward_rejects_a_batch_above_MaxBatch()
    {
        ForwardFunction forward = Checks(out _);
        const int batch = ChecksMaxBatch + 1;
        float[] output = Filled(batch * ChecksOutput);

        var e = Assert.Throws<ArgumentException>(() => forward(TestData.Random(batch * ChecksInput, seed: 6), output));

        Assert.Equal("input", e.ParamName);
        AssertMentions(e.Message, batch, ChecksMaxBatch);
        AssertUntouched(output);
    }

    [Fact]
    public void Forward_still_computes_after_rejected_calls_and_uses_changed_parameters()
    {
        ForwardFunction forward = Checks(out ParameterSet parameters);
        Assert.ThrowsAny<ArgumentException>(() => forward(new float[ChecksInput + 1], new float[ChecksOutput]));
        Assert.ThrowsAny<ArgumentException>(() => forward(new float[ChecksInput], new float[ChecksOutput + 1]));

        float[] x = TestData.Random(ChecksMaxBatch * ChecksInput, seed: 7);
        var y = new float[ChecksMaxBatch * ChecksOutput];
        forward(x, y);
        Close.Assert(ChecksReference(x, ChecksMaxBatch, parameters), y, Rtol, Atol, "Checks");

        // Kernels keep packed copies of the weights; a write through the parameter set must reach them.
        TestData.Random(48 * ChecksOutput, seed: 8, scale: 0.5f).CopyTo(parameters["fc.weight"]);
        forward(x, y);
        Close.Assert(ChecksReference(x, ChecksMaxBatch, parameters), y, Rtol, Atol, "Checks after changing fc.weight");
    }

    private ForwardFunction Checks(out ParameterSet parameters)
    {
        object model = set.Create("Checks", ChecksMaxBatch, seed: 3);
        Assert.Empty(set.DiagnosticsOf("Checks").Select(GeneratorRun.Format));
        Assert.Equal(ChecksInput, RandomModelSet.Constant(model, "InputSize"));
        Assert.Equal(ChecksOutput, RandomModelSet.Constant(model, "OutputSize"));
        Assert.Equal(ChecksMaxBatch, (int)model.GetType().GetProperty("MaxBatch")!.GetValue(model)!);
        parameters = RandomModelSet.Parameters(model);
        return RandomModelSet.Forward(model);
    }

    private static float[] ChecksReference(float[] x, int n, ParameterSet p)
    {
        float[] h = R.Relu(R.Conv2d(x, n, 2, 4, 4, p.Read("conv.weight"), 3, 3, p.Read("conv.bias").ToArray(), padding: 1));
        return R.Softmax(R.Linear(h, n, 48, p.Read("fc.weight"), ChecksOutput, p.Read("fc.bias").ToArray()), n, ChecksOutput);
    }

    private static float[] Filled(int length) => Enumerable.Repeat(Sentinel, length).ToArray();

    private static void AssertUntouched(float[] output) =>
        Assert.True(output.All(v => v == Sentinel), "A rejected call wrote to the output: [" + string.Join(", ", output) + "]");

    /// <summary>The message names both sizes, as whole numbers (so that 3 does not match inside 32).</summary>
    private static void AssertMentions(string message, int actual, int expected)
    {
        foreach (int n in new[] { actual, expected })
        {
            Assert.True(Regex.IsMatch(message, $@"(?<![\d.]){n.ToString(CultureInfo.InvariantCulture)}(?![\d])"),
                $"The message does not name {n}: {message}");
        }
    }
}
