using System.Globalization;

namespace GraphCompiler;

/// <summary>Options of <see cref="Checkpoint.Load"/>.</summary>
public sealed record CheckpointLoadOptions
{
    /// <summary>The defaults: extra tensors allowed, F16/BF16/F64 converted.</summary>
    public static CheckpointLoadOptions Default { get; } = new();

    /// <summary>
    /// Whether tensors the model does not have are ignored (default true): PyTorch <c>state_dict</c>s carry buffers
    /// such as BatchNorm's <c>num_batches_tracked</c>, and a checkpoint may hold optimizer state. False acts like
    /// <c>load_state_dict(strict=True)</c>: any unknown tensor is an error (this checkpoint's own <c>optimizer.*</c>
    /// entries excepted when no optimizer is given). Missing tensors are always an error.
    /// </summary>
    public bool AllowExtraTensors { get; init; } = true;

    /// <summary>Whether F16, BF16 and F64 tensors are accepted and converted (default true); false demands F32.</summary>
    public bool AllowFloatConversion { get; init; } = true;
}

/// <summary>
/// Saves and loads a model's <see cref="ParameterSet"/>, optionally with its <see cref="Optimizer"/>'s state, as a
/// safetensors file that PyTorch reads with <c>safetensors.torch.load_file</c>.
/// </summary>
/// <remarks>
/// <para>Layout of the file: each parameter under its PyTorch name with its shape (<c>conv1.weight</c>
/// <c>[32, 1, 3, 3]</c>), F32. With an optimizer, each state buffer is split the same way and stored as
/// <c>optimizer.{state}.{parameter}</c> with the parameter's shape, using PyTorch's state names:
/// <c>optimizer.exp_avg.fc1.weight</c>, <c>optimizer.exp_avg_sq.fc1.weight</c> (Adam, AdamW),
/// <c>optimizer.momentum_buffer.fc1.weight</c> (SGD with momentum). Metadata: <c>format</c> = <c>pt</c>, and with an
/// optimizer <c>graphcompiler.optimizer</c> (its <see cref="Optimizer.Name"/>) and <c>graphcompiler.step</c> (its
/// <see cref="Optimizer.StepCount"/>); the caller's own entries are added.</para>
/// <para>Loading validates the whole file and every expected tensor first; only when nothing is wrong are the values
/// read (into scratch buffers) and then copied into the model and the optimizer. On any problem a
/// <see cref="CheckpointException"/> lists them all, and the model and the optimizer are unchanged.</para>
/// </remarks>
public static unsafe class Checkpoint
{
    /// <summary>Metadata key of the optimizer's name.</summary>
    public const string OptimizerKey = "graphcompiler.optimizer";

    /// <summary>Metadata key of the optimizer's step count.</summary>
    public const string StepKey = "graphcompiler.step";

    /// <summary>Prefix of the optimizer state tensors.</summary>
    public const string OptimizerPrefix = "optimizer.";

    /// <summary>Saves atomically (see <see cref="SafeTensors.Write(string, IEnumerable{SafeTensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    /// <param name="path">Target file; replaced only once the new one is complete on disk.</param>
    /// <param name="parameters">The model's parameters.</param>
    /// <param name="optimizer">Optional optimizer whose state and step count are saved too.</param>
    /// <param name="metadata">Extra string metadata (epoch, accuracy, ...); must not use the <c>graphcompiler.</c> keys.</param>
    public static void Save(
        string path, ParameterSet parameters, Optimizer? optimizer = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, parameters, optimizer, metadata, wrap: null);

    /// <summary>As the public overload, with a stream wrapper for tests.</summary>
    internal static void Save(
        string path, ParameterSet parameters, Optimizer? optimizer, IReadOnlyDictionary<string, string>? metadata,
        Func<Stream, Stream>? wrap)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (optimizer is not null && optimizer.Parameters.BufferLength != parameters.BufferLength)
        {
            throw new ArgumentException("The optimizer updates a parameter set of another layout.", nameof(optimizer));
        }

        var allMetadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null)
        {
            foreach (KeyValuePair<string, string> entry in metadata)
            {
                if (entry.Key is OptimizerKey or StepKey)
                {
                    throw new ArgumentException($"Metadata key '{entry.Key}' is reserved for the optimizer.", nameof(metadata));
                }

                allMetadata[entry.Key] = entry.Value;
            }
        }

        var tensors = new List<SafeTensor>();
        foreach (ParameterInfo p in parameters.Layout)
        {
            tensors.Add(new SafeTensor(p.Name, p.Shape, new PointerMemory(parameters.Pointer + p.Offset, p.Length).Memory));
        }

        if (optimizer is not null)
        {
            allMetadata[OptimizerKey] = optimizer.Name;
            allMetadata[StepKey] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
            foreach ((string state, AlignedBuffer buffer) in optimizer.State)
            {
                foreach (ParameterInfo p in parameters.Layout)
                {
                    tensors.Add(new SafeTensor(
                        StateTensorName(state, p.Name), p.Shape, new PointerMemory(buffer.Pointer + p.Offset, p.Length).Memory));
                }
            }
        }

        SafeTensors.Write(path, tensors, allMetadata, wrap);
    }

    /// <summary>
    /// Loads parameters (and optionally the optimizer's state and step count) from <paramref name="path"/>, all or
    /// nothing: see the remarks of <see cref="Checkpoint"/>. Marks the parameters modified.
    /// </summary>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="CheckpointException">The file is unreadable, corrupt or does not fit the model or optimizer.</exception>
    public static IReadOnlyDictionary<string, string> Load(
        string path, ParameterSet parameters, Optimizer? optimizer = null, CheckpointLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        options ??= CheckpointLoadOptions.Default;
        if (optimizer is not null && optimizer.Parameters.BufferLength != parameters.BufferLength)
        {
            throw new ArgumentException("The optimizer updates a parameter set of another layout.", nameof(optimizer));
        }

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        var problems = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (ParameterInfo p in parameters.Layout)
        {
            Check(file, p.Name, p.Shape, options, problems);
            expected.Add(p.Name);
        }

        int step = 0;
        if (optimizer is not null)
        {
            if (!file.Metadata.TryGetValue(OptimizerKey, out string? name))
            {
                problems.Add($"the file holds no optimizer state (no '{OptimizerKey}' metadata); {optimizer.Name} state was asked for");
            }
            else if (name != optimizer.Name)
            {
                problems.Add($"the optimizer state is {name}'s; {optimizer.Name} state was asked for");
            }

            if (!file.Metadata.TryGetValue(StepKey, out string? stepText) ||
                !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step))
            {
                problems.Add($"metadata '{StepKey}' is missing or not a non-negative integer");
            }

            foreach ((string state, AlignedBuffer _) in optimizer.State)
            {
                foreach (ParameterInfo p in parameters.Layout)
                {
                    string tensor = StateTensorName(state, p.Name);
                    Check(file, tensor, p.Shape, options, problems);
                    expected.Add(tensor);
                }
            }
        }

        if (!options.AllowExtraTensors)
        {
            bool ownOptimizerEntries = optimizer is null && file.Metadata.ContainsKey(OptimizerKey);
            foreach (SafeTensorInfo t in file.Tensors)
            {
                if (!expected.Contains(t.Name) && !(ownOptimizerEntries && t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
                {
                    problems.Add($"tensor '{t.Name}' is not part of the model (extra tensors are not allowed)");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new CheckpointException(path, problems);
        }

        // Everything checks out: read into scratch buffers, so that a read error still leaves the model untouched.
        var values = new float[parameters.BufferLength];
        Read(file, parameters, values, name => name);
        float[][] states = [];
        if (optimizer is not null)
        {
            states = new float[optimizer.State.Count][];
            for (int i = 0; i < states.Length; i++)
            {
                string state = optimizer.State[i].Name;
                states[i] = new float[parameters.BufferLength];
                Read(file, parameters, states[i], name => StateTensorName(state, name));
            }
        }

        values.CopyTo(parameters.Values);
        parameters.MarkModified();
        if (optimizer is not null)
        {
            for (int i = 0; i < states.Length; i++)
            {
                states[i].CopyTo(optimizer.State[i].Buffer.Span);
            }

            optimizer.StepCount = step;
        }

        return file.Metadata;
    }

    /// <summary>The tensor name of one parameter's slice of an optimizer state buffer.</summary>
    public static string StateTensorName(string state, string parameter) => $"{OptimizerPrefix}{state}.{parameter}";

    private static void Check(SafeTensorsFile file, string name, int[] shape, CheckpointLoadOptions options, List<string> problems)
    {
        if (!file.TryGetTensor(name, out SafeTensorInfo? t))
        {
            problems.Add($"tensor '{name}' is missing");
            return;
        }

        bool dtypeOk = t.DType == SafeTensorsDType.F32 || (options.AllowFloatConversion && t.DType.IsReadableAsFloat());
        if (!dtypeOk)
        {
            problems.Add(
                $"tensor '{name}': dtype {t.DType.Name()} where {(options.AllowFloatConversion ? "F32, F16, BF16 or F64" : "F32")} is expected");
        }

        if (!t.Shape.AsSpan().SequenceEqual(shape.Select(d => (long)d).ToArray()))
        {
            problems.Add($"tensor '{name}': shape {"[" + string.Join(", ", shape) + "]"} expected, the file has {t.ShapeText}");
        }
    }

    private static void Read(SafeTensorsFile file, ParameterSet parameters, float[] destination, Func<string, string> tensorName)
    {
        foreach (ParameterInfo p in parameters.Layout)
        {
            file.ReadAsFloat(file[tensorName(p.Name)], destination.AsSpan(p.Offset, p.Length));
        }
    }
}
