using System.Globalization;
using GraphCompiler;

namespace Mnist;

/// <summary>Saving, resuming and reloading the sample's checkpoints (safetensors, PyTorch names, optimizer state).</summary>
public static class Checkpoints
{
    private const string EpochKey = "mnist.epoch";

    /// <summary>The options that decide the course of training: a resumed run should use the same ones.</summary>
    private static Dictionary<string, string> TrainingMetadata(Options options) => new(StringComparer.Ordinal)
    {
        ["mnist.dataset"] = options.Dataset.ToString().ToLowerInvariant(),
        ["mnist.optimizer"] = options.Optimizer.ToString().ToLowerInvariant(),
        ["mnist.lr"] = options.EffectiveLearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["mnist.batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["mnist.seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        ["mnist.epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Writes atomically (a crash mid-write leaves the previous file as it was).</summary>
    public static void Save(string path, ParameterSet parameters, Optimizer optimizer, Options options, int epochsDone)
    {
        Dictionary<string, string> metadata = TrainingMetadata(options);
        metadata[EpochKey] = epochsDone.ToString(CultureInfo.InvariantCulture);
        try
        {
            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            Checkpoint.Save(path, parameters, optimizer, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"could not save the checkpoint '{path}': {e.Message}", e);
        }
    }

    /// <summary>Loads weights, optimizer state and step; returns the number of epochs already done.</summary>
    public static int Resume(string path, ParameterSet parameters, Optimizer optimizer, Options options, Report report)
    {
        IReadOnlyDictionary<string, string> metadata = Load(path, parameters, optimizer);
        if (!metadata.TryGetValue(EpochKey, out string? text) ||
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int epochs))
        {
            throw new SampleException($"'{path}' lacks the '{EpochKey}' metadata this sample writes; it cannot be resumed");
        }

        report.Line($"resumed from {path}: {epochs} epoch(s) done, optimizer step {optimizer.StepCount:N0}");
        foreach ((string key, string value) in TrainingMetadata(options))
        {
            if (metadata.TryGetValue(key, out string? saved) && saved != value)
            {
                report.Line(
                    $"note: the checkpoint was trained with --{key["mnist.".Length..].Replace('_', '-')} {saved}, this run uses {value}: " +
                    "training goes on, but not as the uninterrupted run would have");
            }
        }

        return epochs;
    }

    /// <summary>The weights of a checkpoint in a parameter set of their own.</summary>
    public static ParameterSet LoadWeights(string path)
    {
        var parameters = new ParameterSet(MnistCnn.ParameterLayout, seed: 0);
        Load(path, parameters, optimizer: null);
        return parameters;
    }

    private static IReadOnlyDictionary<string, string> Load(string path, ParameterSet parameters, Optimizer? optimizer)
    {
        if (!File.Exists(path))
        {
            throw new SampleException($"checkpoint '{path}' does not exist");
        }

        try
        {
            return Checkpoint.Load(path, parameters, optimizer);
        }
        catch (CheckpointException e)
        {
            string hint = optimizer is null ? "" : "\nResume with the options of the run that saved it (--optimizer, --dataset, ...).";
            throw new SampleException(e.Message + hint, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new SampleException($"could not read the checkpoint '{path}': {e.Message}", e);
        }
    }
}
