using System.Globalization;
using GraphCompiler;

namespace Samples.Shared;

/// <summary>Saving, resuming and reloading the sample's checkpoints (safetensors, PyTorch names, optimizer state).</summary>
public static class Checkpoints
{
    private static string EpochKey(Options options) => options.Sample.MetadataPrefix + "epoch";

    /// <summary>The options that decide the course of training: a resumed run should use the same ones.</summary>
    private static Dictionary<string, string> TrainingMetadata(Options options)
    {
        string prefix = options.Sample.MetadataPrefix;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [prefix + "dataset"] = options.Dataset.ToString().ToLowerInvariant(),
            [prefix + "optimizer"] = options.Optimizer.ToString().ToLowerInvariant(),
            [prefix + "lr"] = options.EffectiveLearningRate.ToString("R", CultureInfo.InvariantCulture),
            [prefix + "batch_size"] = options.BatchSize.ToString(CultureInfo.InvariantCulture),
            [prefix + "seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            [prefix + "epochs"] = options.Epochs.ToString(CultureInfo.InvariantCulture),
        };
        if (options.Sample.DefaultClipNorm is not null)
        {
            metadata[prefix + "clip_norm"] = (options.ClipNorm ?? 0f).ToString("R", CultureInfo.InvariantCulture);
        }

        return metadata;
    }

    /// <summary>Writes atomically (a crash mid-write leaves the previous file as it was).</summary>
    public static void Save(string path, ParameterSet parameters, Optimizer optimizer, Options options, int epochsDone)
    {
        Dictionary<string, string> metadata = TrainingMetadata(options);
        metadata[EpochKey(options)] = epochsDone.ToString(CultureInfo.InvariantCulture);
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
        string epochKey = EpochKey(options);
        if (!metadata.TryGetValue(epochKey, out string? text) ||
            !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int epochs))
        {
            throw new SampleException($"'{path}' lacks the '{epochKey}' metadata this sample writes; it cannot be resumed");
        }

        report.Line($"resumed from {path}: {epochs} epoch(s) done, optimizer step {optimizer.StepCount:N0}");
        foreach ((string key, string value) in TrainingMetadata(options))
        {
            if (metadata.TryGetValue(key, out string? saved) && saved != value)
            {
                report.Line(
                    $"note: the checkpoint was trained with --{key[options.Sample.MetadataPrefix.Length..].Replace('_', '-')} {saved}, this run uses {value}: " +
                    "training goes on, but not as the uninterrupted run would have");
            }
        }

        return epochs;
    }

    /// <summary>The weights of a checkpoint in a parameter set of their own.</summary>
    public static ParameterSet LoadWeights(string path, SampleDefinition sample)
    {
        var parameters = new ParameterSet(sample.ParameterLayout, seed: 0);
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
