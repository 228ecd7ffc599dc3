using System.Buffers.Binary;
using System.IO.Compression;

namespace GraphCompiler;

/// <summary>Images of an IDX file: <c>Count</c> images of <c>Rows x Columns</c> bytes, row-major, one after another.</summary>
/// <param name="Count">Number of images.</param>
/// <param name="Rows">Rows per image.</param>
/// <param name="Columns">Columns per image.</param>
/// <param name="Pixels">Count x Rows x Columns bytes (0 = background for MNIST).</param>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);

/// <summary>
/// Reads and writes the IDX files of MNIST and Fashion-MNIST: a big-endian magic number (2051 for unsigned-byte images
/// of three dimensions, 2049 for unsigned-byte labels of one), the big-endian dimensions, then the bytes. Files may be
/// gzip-compressed (detected by content, not by name).
/// </summary>
/// <remarks>
/// Reading validates the magic number, the dimensions and the exact data length: a truncated file, trailing bytes or a
/// file of another kind throw <see cref="InvalidDataException"/> naming the file and what was expected.
/// </remarks>
public static class IdxFile
{
    /// <summary>Magic number of an unsigned-byte, three-dimensional IDX file (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an unsigned-byte, one-dimensional IDX file (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    private const int MaxSide = 1 << 16;

    /// <summary>The first buffer of a gzip stream's data; it doubles up to the declared size as data arrives.</summary>
    private const int InitialBuffer = 1 << 20;

    /// <summary>Reads an image file (magic 2051).</summary>
    public static IdxImages ReadImages(string path)
    {
        using Stream stream = OpenRead(path);
        Span<byte> header = stackalloc byte[16];
        ReadHeader(stream, path, header, ImagesMagic, "image");
        int count = ReadDimension(header, 4, path, "image count");
        int rows = ReadDimension(header, 8, path, "row count");
        int columns = ReadDimension(header, 12, path, "column count");
        if (rows == 0 || columns == 0 || rows > MaxSide || columns > MaxSide)
        {
            throw new InvalidDataException($"IDX file '{path}' declares images of {rows} x {columns} pixels, which is not plausible.");
        }

        byte[] pixels = ReadData(stream, path, (long)count * rows * columns, $"{count} images of {rows} x {columns} pixels");
        return new IdxImages(count, rows, columns, pixels);
    }

    /// <summary>Reads a label file (magic 2049): one byte per sample.</summary>
    public static byte[] ReadLabels(string path)
    {
        using Stream stream = OpenRead(path);
        Span<byte> header = stackalloc byte[8];
        ReadHeader(stream, path, header, LabelsMagic, "label");
        int count = ReadDimension(header, 4, path, "label count");
        return ReadData(stream, path, count, $"{count} labels");
    }

    /// <summary>Writes an image file; gzip-compressed when <paramref name="path"/> ends in <c>.gz</c>.</summary>
    public static void WriteImages(string path, int rows, int columns, ReadOnlySpan<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (pixels.Length % (rows * columns) != 0)
        {
            throw new ArgumentException($"{pixels.Length} bytes are not a whole number of {rows} x {columns} images.", nameof(pixels));
        }

        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteInt32BigEndian(header, ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], pixels.Length / (rows * columns));
        BinaryPrimitives.WriteInt32BigEndian(header[8..], rows);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], columns);
        Write(path, header, pixels);
    }

    /// <summary>Writes a label file; gzip-compressed when <paramref name="path"/> ends in <c>.gz</c>.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], labels.Length);
        Write(path, header, labels);
    }

    private static void Write(string path, ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Optimal)
            : file;
        stream.Write(header);
        stream.Write(data);
    }

    private static Stream OpenRead(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        Span<byte> signature = stackalloc byte[2];
        int read = file.ReadAtLeast(signature, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && signature[0] == 0x1f && signature[1] == 0x8b
            ? new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16)
            : file;
    }

    private static void ReadHeader(Stream stream, string path, Span<byte> header, int magic, string kind)
    {
        int read = Fill(stream, path, header);
        if (read >= 4)
        {
            int found = BinaryPrimitives.ReadInt32BigEndian(header);
            if (found != magic)
            {
                string other = found == ImagesMagic ? " (that of an IDX image file)"
                    : found == LabelsMagic ? " (that of an IDX label file)"
                    : "";
                throw new InvalidDataException(
                    $"'{path}' is not an IDX {kind} file: its magic number is {found} (0x{found:X8}){other}, " +
                    $"expected {magic} (0x{magic:X8}).");
            }
        }

        if (read < header.Length)
        {
            throw new InvalidDataException(
                $"'{path}' is too short for an IDX {kind} file: {read} bytes, the header alone takes {header.Length}.");
        }
    }

    private static int ReadDimension(ReadOnlySpan<byte> header, int offset, string path, string what)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(header[offset..]);
        if (value < 0)
        {
            throw new InvalidDataException($"IDX file '{path}' declares a negative {what} ({value}).");
        }

        return value;
    }

    private static byte[] ReadData(Stream stream, string path, long length, string promised)
    {
        // The header is checked against the data before anything of its size is allocated: a damaged count must not
        // cost gigabytes. A plain file knows its length; a gzip stream does not, so the buffer grows as data arrives.
        if (stream.CanSeek && stream.Length - stream.Position < length)
        {
            throw Truncated(path, promised, length, stream.Length - stream.Position);
        }

        if (length > Array.MaxLength)
        {
            throw new InvalidDataException($"IDX file '{path}' declares {promised} ({length} bytes): more than one array can hold.");
        }

        var data = new byte[Math.Min(length, InitialBuffer)];
        int read = 0;
        while (true)
        {
            read += Fill(stream, path, data.AsSpan(read));
            if (read < data.Length || data.Length == length)
            {
                break;
            }

            Array.Resize(ref data, (int)Math.Min(length, 2L * data.Length));
        }

        if (read < length)
        {
            throw Truncated(path, promised, length, read);
        }

        Span<byte> probe = stackalloc byte[1];
        if (Fill(stream, path, probe) != 0)
        {
            throw new InvalidDataException(
                $"IDX file '{path}' has bytes beyond the {promised} its header promises (a different or damaged file).");
        }

        return data;
    }

    private static InvalidDataException Truncated(string path, string promised, long length, long available) => new(
        $"IDX file '{path}' is truncated: its header promises {promised} ({length} bytes of data), " +
        $"but only {available} bytes follow.");

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    private static int Fill(Stream stream, string path, Span<byte> buffer)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is a damaged gzip file: {e.Message}", e);
        }
    }
}
