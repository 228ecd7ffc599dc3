using System.Globalization;
using GraphCompiler;

namespace Samples.Shared;

/// <summary>
/// What makes one MNIST sample different from another: its model, its project, its option defaults and
/// the names it writes. <see cref="SampleProgram.Run{TModel}"/> does the rest.
/// </summary>
public abstract class SampleDefinition
{
    /// <summary>"samples/Mnist": for the usage text.</summary>
    public required string Project { get; init; }

    /// <summary>The first paragraph of <c>--help</c>.</summary>
    public required string Description { get; init; }

    /// <summary>"seed CNN": for the first line of a run.</summary>
    public required string ModelName { get; init; }

    /// <summary>"cnn": the default checkpoint is <c>artifacts/mnist-STEM.safetensors</c> (or fashion-mnist-STEM).</summary>
    public required string CheckpointStem { get; init; }

    /// <summary>"mnist.": the prefix of the checkpoint metadata keys this sample writes.</summary>
    public required string MetadataPrefix { get; init; }

    /// <summary>How the model reads an image, when not as an image: "each image row by row as 28 steps".</summary>
    public string? InputDescription { get; init; }

    public int DefaultEpochs { get; init; } = 3;

    /// <summary>The peak learning rate of Adam and AdamW unless --lr says otherwise.</summary>
    public float DefaultAdamLearningRate { get; init; } = 1e-3f;

    /// <summary>The peak learning rate of SGD unless --lr says otherwise.</summary>
    public float DefaultSgdLearningRate { get; init; } = 0.05f;

    /// <summary>
    /// The gradient-norm clipping threshold by default; null: the sample has no <c>--clip-norm</c> option and never
    /// clips.
    /// </summary>
    public float? DefaultClipNorm { get; init; }

    /// <summary>The generated class's model summary.</summary>
    public required string Summary { get; init; }

    /// <summary>The generated class's parameter layout (for loading a checkpoint into a parameter set of its own).</summary>
    public required IReadOnlyList<ParameterInfo> ParameterLayout { get; init; }

    internal string Text(float value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A sample's definition with the constructors of its generated model.</summary>
public sealed class SampleDefinition<TModel> : SampleDefinition
    where TModel : class, ICompiledModel
{
    /// <summary>A workspace with its own parameters: (largest batch, seed) -> model.</summary>
    public required Func<int, int, TModel> Create { get; init; }

    /// <summary>A workspace over shared parameters: (parameters, largest batch) -> model.</summary>
    public required Func<ParameterSet, int, TModel> CreateShared { get; init; }
}
