using Microsoft.ML.OnnxRuntime;

namespace GraphCompiler.Bench.Runners;

/// <summary>How <see cref="OrtRunner.Run"/> calls ONNX Runtime.</summary>
public enum OrtCallMode
{
    /// <summary><c>RunWithBinding</c> over an <see cref="OrtIoBinding"/> bound once to the preallocated values.</summary>
    IoBinding,

    /// <summary><c>Run(RunOptions, names, OrtValue[], names, OrtValue[])</c> with preallocated arrays.</summary>
    OrtValueArrays,
}

/// <summary>
/// One ONNX Runtime session with one float input and one float output at a fixed batch, set up so that
/// a call allocates as little as the managed API allows: the input and output are preallocated arrays
/// wrapped zero-copy in <see cref="OrtValue"/>s (the arrays are pinned for the runner's lifetime), bound
/// once. Fill <see cref="Input"/>, call <see cref="Run"/>, read <see cref="Output"/>.
/// </summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly OrtIoBinding _binding;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;
    private readonly (long[] Values, int Length)[] _tokens = [];
    private readonly OrtValue[] _tokenValues = [];

    /// <param name="model">The serialized ONNX model.</param>
    /// <param name="inputName">Name of the graph input.</param>
    /// <param name="inputShape">Its shape at the batch this runner serves.</param>
    /// <param name="outputName">Name of the graph output.</param>
    /// <param name="outputShape">Its shape at that batch.</param>
    /// <param name="intraOpThreads">1 for one thread; 0 for ONNX Runtime's default (all cores).</param>
    /// <param name="mode">How to call the session.</param>
    public OrtRunner(
        byte[] model, string inputName, long[] inputShape, string outputName, long[] outputShape, int intraOpThreads,
        OrtCallMode mode = OrtCallMode.IoBinding)
    {
        Mode = mode;
        IntraOpThreads = intraOpThreads;
        using (SessionOptions options = CreateOptions(intraOpThreads))
        {
            _session = new InferenceSession(model, options);
        }

        Input = new float[Product(inputShape)];
        Output = new float[Product(outputShape)];
        _input = OrtValue.CreateTensorValueFromMemory(Input, inputShape);
        _output = OrtValue.CreateTensorValueFromMemory(Output, outputShape);
        _binding = _session.CreateIoBinding();
        _binding.BindInput(inputName, _input);
        _binding.BindOutput(outputName, _output);
        _binding.SynchronizeBoundInputs();
        _inputNames = [inputName];
        _outputNames = [outputName];
        _inputValues = [_input];
        _outputValues = [_output];
    }

    /// <summary>
    /// A session over int64 token inputs [batch, length] (a Transformer's source and target): <see cref="Input"/>
    /// holds each sample's tokens as floats, input after input, and <see cref="Run"/> copies them into the bound
    /// int64 buffers first (a few nanoseconds per sample).
    /// </summary>
    public OrtRunner(
        byte[] model, IReadOnlyList<(string Name, int Length)> tokenInputs, int batch, string outputName, long[] outputShape,
        int intraOpThreads, OrtCallMode mode = OrtCallMode.IoBinding)
    {
        Mode = mode;
        IntraOpThreads = intraOpThreads;
        using (SessionOptions options = CreateOptions(intraOpThreads))
        {
            _session = new InferenceSession(model, options);
        }

        Input = new float[batch * tokenInputs.Sum(t => t.Length)];
        Output = new float[Product(outputShape)];
        _output = OrtValue.CreateTensorValueFromMemory(Output, outputShape);
        _binding = _session.CreateIoBinding();
        _tokens = tokenInputs.Select(t => (new long[batch * t.Length], t.Length)).ToArray();
        _tokenValues = new OrtValue[tokenInputs.Count];
        for (int i = 0; i < tokenInputs.Count; i++)
        {
            _tokenValues[i] = OrtValue.CreateTensorValueFromMemory(_tokens[i].Values, [batch, tokenInputs[i].Length]);
            _binding.BindInput(tokenInputs[i].Name, _tokenValues[i]);
        }

        _input = _tokenValues[0];
        _binding.BindOutput(outputName, _output);
        _binding.SynchronizeBoundInputs();
        _inputNames = tokenInputs.Select(t => t.Name).ToArray();
        _outputNames = [outputName];
        _inputValues = _tokenValues;
        _outputValues = [_output];
    }

    /// <summary>The input buffer the session reads (zero-copy).</summary>
    public float[] Input { get; }

    /// <summary>The output buffer the session writes (zero-copy).</summary>
    public float[] Output { get; }

    public OrtCallMode Mode { get; }

    public int IntraOpThreads { get; }

    /// <summary>The session options every runner uses: all graph optimizations, sequential execution.</summary>
    public static SessionOptions CreateOptions(int intraOpThreads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (intraOpThreads > 0)
        {
            options.IntraOpNumThreads = intraOpThreads;
            options.InterOpNumThreads = 1;
        }

        return options;
    }

    /// <summary>ONNX Runtime's version string (native library).</summary>
    public static string Version => OrtEnv.Instance().GetVersionString();

    /// <summary>One inference: <see cref="Input"/> to <see cref="Output"/>.</summary>
    public void Run()
    {
        if (_tokens.Length > 0)
        {
            CopyTokens();
        }

        if (Mode == OrtCallMode.IoBinding)
        {
            _session.RunWithBinding(_runOptions, _binding);
        }
        else
        {
            _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);
        }
    }

    public void Dispose()
    {
        _binding.Dispose();
        if (_tokenValues.Length == 0)
        {
            _input.Dispose();
        }

        foreach (OrtValue value in _tokenValues)
        {
            value.Dispose();
        }

        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Each sample's float tokens, input after input, into the int64 buffers.</summary>
    private void CopyTokens()
    {
        int perSample = Input.Length / (_tokens[0].Values.Length / _tokens[0].Length);
        int batch = Input.Length / perSample;
        for (int n = 0; n < batch; n++)
        {
            int offset = n * perSample;
            foreach ((long[] values, int length) in _tokens)
            {
                for (int i = 0; i < length; i++)
                {
                    values[(n * length) + i] = (long)Input[offset + i];
                }

                offset += length;
            }
        }
    }

    private static int Product(long[] shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            n *= d;
        }

        return checked((int)n);
    }
}

/// <summary>The seed CNN in ONNX Runtime at one batch size.</summary>
public static class OrtCnn
{
    public static OrtRunner Create(byte[] model, int batch, int intraOpThreads, OrtCallMode mode = OrtCallMode.IoBinding) =>
        new(
            model,
            Onnx.CnnOnnx.InputName, [batch, Cnn.SeedCnn.InChannels, Cnn.SeedCnn.Height, Cnn.SeedCnn.Width],
            Onnx.CnnOnnx.OutputName, [batch, Cnn.SeedCnn.Classes],
            intraOpThreads, mode);
}
