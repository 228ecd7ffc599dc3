namespace GraphCompiler;

/// <summary>The two files of a dictd dictionary.</summary>
/// <param name="Index">The <c>.index</c> file.</param>
/// <param name="Dictionary">The <c>.dict.dz</c> (or <c>.dict</c>) body.</param>
public sealed record DictdFiles(string Index, string Dictionary)
{
    /// <summary>Reads both files (see <see cref="DictdDictionary.Load"/>).</summary>
    public DictdDictionary Load() => DictdDictionary.Load(Index, Dictionary);
}

/// <summary>
/// Locates FreeDict's German-English dictionary (Debian package <c>dict-freedict-deu-eng</c>, dictd format, about
/// 520,000 index lines), fetching it with <c>apt-get download</c> and <c>dpkg-deb -x</c> when it is neither cached
/// nor installed.
/// </summary>
/// <remarks>
/// The cache folder follows <see cref="MnistData"/>: <c>$GRAPHCOMPILER_DATA/freedict-deu-eng</c> when that variable
/// is set, else <c>$XDG_CACHE_HOME/graphcompiler/freedict-deu-eng</c>, else
/// <c>~/.cache/graphcompiler/freedict-deu-eng</c>. Copying <c>freedict-deu-eng.index</c> and
/// <c>freedict-deu-eng.dict.dz</c> there by hand avoids any download.
/// </remarks>
public static class FreedictData
{
    /// <summary>The Debian package holding the dictionary.</summary>
    public const string DebianPackage = "dict-freedict-deu-eng";

    /// <summary>Where Debian installs dictd dictionaries.</summary>
    public const string DebianDirectory = "/usr/share/dictd";

    /// <summary>The index file's name.</summary>
    public const string IndexFileName = "freedict-deu-eng.index";

    /// <summary>The compressed body's name.</summary>
    public const string DictionaryFileName = "freedict-deu-eng.dict.dz";

    /// <summary>The default cache folder (see the remarks of <see cref="FreedictData"/>).</summary>
    public static string DefaultCacheDirectory => Path.Combine(MnistData.CacheRoot(), "freedict-deu-eng");

    /// <summary>
    /// Returns the two files: those in <paramref name="cacheDirectory"/> (default <see cref="DefaultCacheDirectory"/>)
    /// when both are there; else copies those of an installed Debian package (<see cref="DebianDirectory"/>) into the
    /// cache; else runs <c>apt-get download dict-freedict-deu-eng</c> in a temporary folder, unpacks the package with
    /// <c>dpkg-deb -x</c> and copies the two files into the cache. Each file is written under a temporary name and
    /// then renamed, so an interrupted fetch never leaves a partial file behind.
    /// </summary>
    /// <exception cref="InvalidOperationException">apt-get or dpkg-deb is missing or failed; the message says how to proceed.</exception>
    public static DictdFiles EnsureDownloaded(string? cacheDirectory = null) =>
        EnsureDownloaded(cacheDirectory, DebianDirectory, "apt-get", "dpkg-deb");

    /// <summary>As the public overload, with the installed folder and the commands replaceable by tests.</summary>
    internal static DictdFiles EnsureDownloaded(string? cacheDirectory, string installedDirectory, string aptGet, string dpkgDeb)
    {
        string directory = cacheDirectory ?? DefaultCacheDirectory;
        if (TryFind(directory) is { } cached)
        {
            return cached;
        }

        Directory.CreateDirectory(directory);
        if (TryFind(installedDirectory) is { } installed)
        {
            CopyIntoCache(installed, directory);
            return TryFind(directory)!;
        }

        string hint =
            $"On Debian or Ubuntu run 'apt-get download {DebianPackage}' and 'dpkg-deb -x {DebianPackage}_*.deb out', " +
            $"or 'apt-get install {DebianPackage}'; elsewhere put {IndexFileName} and {DictionaryFileName} (from " +
            $"https://freedict.org/) into '{directory}'.";
        DirectoryInfo work = Directory.CreateTempSubdirectory("graphcompiler-freedict-");
        try
        {
            MnistData.Run(aptGet, ["download", DebianPackage], work.FullName, hint);
            string package = Directory.GetFiles(work.FullName, "*.deb").SingleOrDefault()
                ?? throw new InvalidOperationException($"'{aptGet} download {DebianPackage}' produced no .deb file. {hint}");
            string extracted = Path.Combine(work.FullName, "root");
            MnistData.Run(dpkgDeb, ["-x", package, extracted], work.FullName, hint);
            DictdFiles unpacked = TryFind(Path.Combine(extracted, DebianDirectory.TrimStart('/')))
                ?? throw new InvalidOperationException(
                    $"The package {DebianPackage} lacks {DebianDirectory}/{IndexFileName} or {DictionaryFileName}. {hint}");
            CopyIntoCache(unpacked, directory);
        }
        finally
        {
            work.Delete(recursive: true);
        }

        return TryFind(directory)!;
    }

    /// <summary>The two files in <paramref name="directory"/> under their standard names; null when either is missing.</summary>
    public static DictdFiles? TryFind(string directory)
    {
        string index = Path.Combine(directory, IndexFileName);
        string dictionary = Path.Combine(directory, DictionaryFileName);
        return File.Exists(index) && File.Exists(dictionary) ? new DictdFiles(index, dictionary) : null;
    }

    private static void CopyIntoCache(DictdFiles source, string directory)
    {
        // The body first: a cache holding only the index is not found by TryFind, so it is fetched again.
        foreach ((string from, string name) in new[] { (source.Dictionary, DictionaryFileName), (source.Index, IndexFileName) })
        {
            using FileStream stream = File.OpenRead(from);
            MnistData.Install(stream, Path.Combine(directory, name), stream.Length);
        }
    }
}
