using System.Buffers.Binary;
using GraphCompiler.Tests.IO;
using Xunit;

namespace GraphCompiler.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Pixels(int count, int rows, int columns)
    {
        var pixels = new byte[count * rows * columns];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 37 % 256);
        }

        return pixels;
    }

    [Theory]
    [InlineData("")]
    [InlineData(".gz")]
    public void Round_trip_of_images_and_labels(string extension)
    {
        byte[] pixels = Pixels(5, 3, 4);
        byte[] labels = [3, 1, 4, 1, 5];
        string images = _dir.File("images-idx3-ubyte" + extension);
        string labelFile = _dir.File("labels-idx1-ubyte" + extension);
        IdxFile.WriteImages(images, 3, 4, pixels);
        IdxFile.WriteLabels(labelFile, labels);

        IdxImages read = IdxFile.ReadImages(images);
        Assert.Equal((5, 3, 4), (read.Count, read.Rows, read.Columns));
        Assert.Equal(pixels, read.Pixels);
        Assert.Equal(labels, IdxFile.ReadLabels(labelFile));

        byte[] raw = File.ReadAllBytes(images);
        Assert.Equal(extension == ".gz", raw[0] == 0x1f && raw[1] == 0x8b);
    }

    [Fact]
    public void The_header_is_big_endian_as_in_the_original_files()
    {
        string path = _dir.File("a");
        IdxFile.WriteImages(path, 28, 28, new byte[2 * 28 * 28]);
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28], raw[..16]);
        Assert.Equal(16 + 2 * 28 * 28, raw.Length);
    }

    [Fact]
    public void Images_are_normalized_like_torchvision()
    {
        string images = _dir.File("i"), labels = _dir.File("l");
        IdxFile.WriteImages(images, 1, 3, [0, 255, 51, 128, 0, 0]);
        IdxFile.WriteLabels(labels, [7, 2]);

        LabeledImages normalized = LabeledImages.Load(images, labels);
        Assert.Equal(2, normalized.Count);
        Assert.Equal(3, normalized.SampleSize);
        Assert.Equal([7, 2], normalized.Labels);
        Assert.Equal((0f - 0.1307f) / 0.3081f, normalized.Images[0]);
        Assert.Equal((1f - 0.1307f) / 0.3081f, normalized.Images[1]);
        Assert.Equal((51 / 255f - 0.1307f) / 0.3081f, normalized.Images[2]);

        LabeledImages raw = LabeledImages.Load(images, labels, PixelScaling.UnitRange);
        Assert.Equal([0f, 1f, 0.2f, 128 / 255f, 0f, 0f], raw.Images);
        Assert.Equal([128 / 255f, 0f, 0f], raw.Image(1).ToArray());

        LabeledImages fashion = LabeledImages.Load(images, labels, mean: MnistData.FashionMean, std: MnistData.FashionStdDev);
        Assert.Equal((1f - 0.2860f) / 0.3530f, fashion.Images[1]);
    }

    [Fact]
    public void A_truncated_image_file_names_the_file_and_the_expected_size()
    {
        string path = _dir.File("train-images-idx3-ubyte");
        IdxFile.WriteImages(path, 28, 28, new byte[3 * 28 * 28]);
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - 10);
        }

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("3 images of 28 x 28 pixels (2352 bytes of data), but only 2342 bytes follow", e.Message);
    }

    [Fact]
    public void A_truncated_gzip_file_is_reported()
    {
        string full = _dir.File("full.gz");
        IdxFile.WriteLabels(full, new byte[5000]);
        byte[] compressed = File.ReadAllBytes(full);
        string cut = _dir.File("cut.gz");
        File.WriteAllBytes(cut, compressed[..(compressed.Length / 2)]);

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(cut));
        Assert.Contains(cut, e.Message);
    }

    [Fact]
    public void A_truncated_header_and_extra_bytes_are_reported()
    {
        string shortFile = _dir.File("short");
        File.WriteAllBytes(shortFile, [0, 0, 8, 3, 0, 0]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(shortFile));
        Assert.Contains("too short for an IDX image file: 6 bytes, the header alone takes 16", e.Message);

        string longFile = _dir.File("long");
        IdxFile.WriteLabels(longFile, [1, 2, 3]);
        File.AppendAllText(longFile, "x");
        e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(longFile));
        Assert.Contains("bytes beyond the 3 labels", e.Message);
    }

    [Fact]
    public void Wrong_magic_numbers_name_the_file_and_the_expected_kind()
    {
        string labels = _dir.File("train-labels-idx1-ubyte");
        IdxFile.WriteLabels(labels, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(labels));
        Assert.Contains($"'{labels}' is not an IDX image file: its magic number is 2049 (0x00000801) (that of an IDX label file), expected 2051", e.Message);

        string text = _dir.File("readme.txt");
        File.WriteAllText(text, "This is not an IDX file at all.");
        e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(text));
        Assert.Contains($"'{text}' is not an IDX label file", e.Message);
        Assert.Contains("expected 2049", e.Message);
    }

    [Fact]
    public void Implausible_dimensions_are_rejected()
    {
        string path = _dir.File("dims");
        var header = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxFile.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 28);
        File.WriteAllBytes(path, header);
        Assert.Contains("0 x 28 pixels", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path)).Message);

        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), -5);
        File.WriteAllBytes(path, header);
        Assert.Contains("negative image count", Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path)).Message);
    }

    [Fact]
    public void Label_and_image_counts_must_agree()
    {
        string images = _dir.File("i"), labels = _dir.File("l");
        IdxFile.WriteImages(images, 2, 2, new byte[12]);
        IdxFile.WriteLabels(labels, [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => LabeledImages.Load(images, labels));
        Assert.Contains($"'{labels}' holds 2 labels but '{images}' holds 3 images", e.Message);
    }

    [Fact]
    public void Mnist_files_are_found_by_standard_name_with_or_without_gz()
    {
        Assert.Null(MnistFiles.TryFind(_dir.Path));
        IdxFile.WriteImages(_dir.File("train-images-idx3-ubyte"), 2, 2, new byte[8]);
        IdxFile.WriteLabels(_dir.File("train-labels-idx1-ubyte.gz"), [0, 1]);
        IdxFile.WriteImages(_dir.File("t10k-images-idx3-ubyte.gz"), 2, 2, new byte[4]);
        var e = Assert.Throws<FileNotFoundException>(() => MnistFiles.InDirectory(_dir.Path));
        Assert.EndsWith("t10k-labels-idx1-ubyte.", e.Message);

        IdxFile.WriteLabels(_dir.File("t10k-labels-idx1-ubyte"), [9]);
        MnistFiles files = MnistFiles.InDirectory(_dir.Path);
        Assert.Equal(_dir.File("train-labels-idx1-ubyte.gz"), files.TrainLabels);

        // Files present in the cache folder are used as they are: no npm, no network.
        Assert.Equal(files, MnistData.EnsureDownloaded(_dir.Path, npm: "no-such-npm-command"));
        Assert.Equal(files, MnistData.EnsureFashionDownloaded(_dir.Path));
        Assert.Equal([0, 1], files.LoadTrain().Labels);
        Assert.Equal([9], files.LoadTest(PixelScaling.UnitRange).Labels);
    }

    [Fact]
    public void A_missing_npm_gives_a_clear_message()
    {
        string cache = _dir.File("cache");
        var e = Assert.Throws<InvalidOperationException>(() => MnistData.EnsureDownloaded(cache, npm: "no-such-npm-command"));
        Assert.Contains("'no-such-npm-command' was not found on PATH", e.Message);
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains(cache, e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void Default_cache_folder_is_under_the_user_cache()
    {
        string expected = Environment.GetEnvironmentVariable("GRAPHCOMPILER_DATA") is { Length: > 0 } root
            ? Path.Combine(root, "mnist")
            : Path.Combine("graphcompiler", "mnist");
        Assert.EndsWith(expected, MnistData.DefaultCacheDirectory);
        Assert.EndsWith("fashion-mnist", MnistData.DefaultFashionCacheDirectory);
    }

    [Fact]
    public void A_damaged_gzip_stream_is_reported_with_the_file_name()
    {
        string path = _dir.File("bad.gz");
        using (var file = File.Create(path))
        {
            file.Write([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        }

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));
        Assert.Contains(path, e.Message);
    }
}
