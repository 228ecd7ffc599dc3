using Mnist;

var model = new MnistCnn(maxBatch: 1, seed: 1);
Console.WriteLine(MnistCnn.Summary);
var input = new float[MnistCnn.InputSize];
var output = new float[MnistCnn.OutputSize];
model.Forward(input, output);
Console.WriteLine(string.Join(", ", output));
