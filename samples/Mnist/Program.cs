// The README's main job: train the seed's CNN on MNIST (or Fashion-MNIST) with the generated forward and
// backward passes, evaluate it, save and reload a checkpoint, and measure inference latency.
//
//   dotnet run -c Release --project samples/Mnist [-- --help]
//
// The last line printed is "test accuracy: 0.XXXX". The job itself (options, training loop, progress,
// checkpoints, evaluation) is shared with the other MNIST samples: samples/Shared.

using Mnist;
using Samples.Shared;

return SampleProgram.Main(args, new SampleDefinition<MnistCnn>
{
    Project = "samples/Mnist",
    Description =
        """
        Trains the seed's CNN on MNIST (or Fashion-MNIST), evaluates it on the 10,000 test images, saves a
        checkpoint, reloads it and checks the predictions, and measures inference latency.
        """,
    ModelName = "seed CNN",
    CheckpointStem = "cnn",
    MetadataPrefix = "mnist.",
    Summary = MnistCnn.Summary,
    ParameterLayout = MnistCnn.ParameterLayout,
    Create = (maxBatch, seed) => new MnistCnn(maxBatch, seed),
    CreateShared = (parameters, maxBatch) => new MnistCnn(parameters, maxBatch),
});
