using System.Collections.Concurrent;
using System.Globalization;
using GraphCompiler.Bench.Infrastructure;

namespace GraphCompiler.Bench.Onnx;

/// <summary>
/// ONNX models written by <c>torch.onnx.export</c> (opset 13, input "input", output "output", dynamic batch)
/// from weights in PyTorch layouts: for the models the project's exporter does not cover yet. Writes the
/// weights as safetensors into a temporary folder, runs <c>bench/peers/torch_bench.py --export-onnx</c>
/// with Debian's python3 and PyTorch, and reads the file back. Each distinct set of weights is exported
/// once per process.
/// </summary>
public static class TorchOnnxExport
{
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new(StringComparer.Ordinal);

    /// <param name="key">The script's model name (lstm, gru).</param>
    /// <param name="shapes">Parameter names and shapes, in <c>state_dict</c> order.</param>
    /// <param name="parameters">Their values.</param>
    public static byte[] ToBytes(string key, IReadOnlyList<(string Name, int[] Shape)> shapes, IReadOnlyDictionary<string, float[]> parameters)
    {
        var hash = new HashCode();
        foreach ((string name, _) in shapes)
        {
            foreach (float v in parameters[name])
            {
                hash.Add(v);
            }
        }

        string cacheKey = key + "/" + hash.ToHashCode().ToString(CultureInfo.InvariantCulture);
        return Cache.GetOrAdd(cacheKey, _ => Export(key, shapes, parameters));
    }

    private static byte[] Export(string key, IReadOnlyList<(string Name, int[] Shape)> shapes, IReadOnlyDictionary<string, float[]> parameters)
    {
        DirectoryInfo folder = Directory.CreateTempSubdirectory("graphcompiler-onnx-");
        try
        {
            SafeTensors.Write(
                Path.Combine(folder.FullName, $"{key}.weights.safetensors"),
                shapes.Select(s => new SafeTensor(s.Name, s.Shape, parameters[s.Name])));
            using System.Text.Json.JsonDocument _ = TorchScript.RunScript(["--dir", folder.FullName, "--models", key, "--export-onnx"]);
            return File.ReadAllBytes(Path.Combine(folder.FullName, $"{key}.onnx"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
