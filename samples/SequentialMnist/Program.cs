// Sequential MNIST: the seed's RNN (a 2-layer LSTM, hidden size 128) reads each 28x28 image row by row as
// 28 steps and classifies it from the last step. Trained and evaluated like samples/Mnist (the shared job
// in samples/Shared), with gradient-norm clipping.
//
//   dotnet run -c Release --project samples/SequentialMnist [-- --help]
//
// The last line printed is "test accuracy: 0.XXXX".

using Samples.Shared;
using SequentialMnist;

return SampleProgram.Main(args, new SampleDefinition<SeedRnn>
{
    Project = "samples/SequentialMnist",
    Description =
        """
        Trains the seed's RNN (a 2-layer LSTM, hidden size 128) on MNIST (or Fashion-MNIST) read row by row,
        28 steps of 28 pixels, evaluates it on the 10,000 test images, saves a checkpoint, reloads it and
        checks the predictions, and measures inference latency.
        """,
    ModelName = "seed LSTM",
    InputDescription = "each image row by row as 28 steps",
    CheckpointStem = "lstm",
    MetadataPrefix = "sequential_mnist.",
    DefaultEpochs = 5,
    DefaultAdamLearningRate = 2e-3f,
    DefaultClipNorm = 1f,
    Summary = SeedRnn.Summary,
    ParameterLayout = SeedRnn.ParameterLayout,
    Create = (maxBatch, seed) => new SeedRnn(maxBatch, seed),
    CreateShared = (parameters, maxBatch) => new SeedRnn(parameters, maxBatch),
});
