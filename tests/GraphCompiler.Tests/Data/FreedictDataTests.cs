using GraphCompiler.Tests.IO;
using Xunit;

namespace GraphCompiler.Tests.Data;

public sealed class FreedictDataTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Cached_files_are_used_without_any_command()
    {
        string cache = Path.Combine(_dir.Path, "cache");
        Directory.CreateDirectory(cache);
        File.WriteAllText(Path.Combine(cache, FreedictData.IndexFileName), "x\tA\tB\n");
        File.WriteAllText(Path.Combine(cache, FreedictData.DictionaryFileName), "x");

        DictdFiles files = FreedictData.EnsureDownloaded(cache, Path.Combine(_dir.Path, "none"), "no-such-apt-get", "no-such-dpkg-deb");
        Assert.Equal(Path.Combine(cache, FreedictData.IndexFileName), files.Index);
        Assert.Equal(Path.Combine(cache, FreedictData.DictionaryFileName), files.Dictionary);
    }

    [Fact]
    public void Installed_files_are_copied_into_the_cache()
    {
        string installed = Path.Combine(_dir.Path, "usr-share-dictd");
        Directory.CreateDirectory(installed);
        File.WriteAllText(Path.Combine(installed, FreedictData.IndexFileName), "haus\tA\tE\n");
        File.WriteAllText(Path.Combine(installed, FreedictData.DictionaryFileName), "Haus\n");
        string cache = Path.Combine(_dir.Path, "cache");

        DictdFiles files = FreedictData.EnsureDownloaded(cache, installed, "no-such-apt-get", "no-such-dpkg-deb");
        Assert.Equal(Path.Combine(cache, FreedictData.IndexFileName), files.Index);
        Assert.Equal("haus\tA\tE\n", File.ReadAllText(files.Index));
        Assert.Equal("Haus\n", File.ReadAllText(files.Dictionary));
        Assert.Equal(2, Directory.GetFiles(cache).Length); // no temporary file left behind
    }

    [Fact]
    public void A_missing_apt_get_gives_a_clear_message()
    {
        string cache = Path.Combine(_dir.Path, "cache");
        var e = Assert.Throws<InvalidOperationException>(() =>
            FreedictData.EnsureDownloaded(cache, Path.Combine(_dir.Path, "none"), "no-such-apt-get", "no-such-dpkg-deb"));
        Assert.Contains("'no-such-apt-get' was not found on PATH", e.Message);
        Assert.Contains("apt-get download dict-freedict-deu-eng", e.Message);
        Assert.Contains(cache, e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void A_failing_apt_get_reports_its_exit_code()
    {
        string cache = Path.Combine(_dir.Path, "cache");
        var e = Assert.Throws<InvalidOperationException>(() =>
            FreedictData.EnsureDownloaded(cache, Path.Combine(_dir.Path, "none"), "false", "no-such-dpkg-deb"));
        Assert.Contains("'false download dict-freedict-deu-eng' failed with exit code 1", e.Message);
    }
}
