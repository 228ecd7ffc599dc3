using System.IO.Compression;
using System.Text;

namespace GraphCompiler;

/// <summary>One line of a dictd <c>.index</c> file: a headword and where its entry lies in the <c>.dict</c> body.</summary>
/// <param name="Headword">The lookup key (dictd folds case and drops most punctuation; the entry text keeps the original).</param>
/// <param name="Offset">Byte offset of the entry in the uncompressed body.</param>
/// <param name="Length">Byte length of the entry.</param>
/// <param name="Line">1-based line number in the index file, for messages.</param>
public readonly record struct DictdIndexEntry(string Headword, long Offset, int Length, int Line);

/// <summary>
/// Reads the index of a dictd dictionary: one entry per line, <c>headword&lt;TAB&gt;offset&lt;TAB&gt;length</c>, the
/// two numbers written in dictd's base64 (digits <c>A-Z a-z 0-9 + /</c> for 0..63, most significant digit first, so
/// <c>"B0"</c> is 1 * 64 + 52 = 116). A fourth column (the original headword, written by some dictfmt options) is
/// accepted and ignored.
/// </summary>
/// <remarks>
/// A malformed line throws <see cref="InvalidDataException"/> naming the file, the line and what was wrong.
/// </remarks>
public static class DictdIndex
{
    /// <summary>dictd's base64 digits, in value order.</summary>
    public const string Base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    // 10 digits are 60 bits: any larger number is not an offset into a real file.
    private const int MaxDigits = 10;

    /// <summary>Reads an index file (UTF-8).</summary>
    public static IReadOnlyList<DictdIndexEntry> Read(string path)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: false));
        return Parse(reader, path);
    }

    /// <summary>Parses index lines from <paramref name="reader"/>; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<DictdIndexEntry> Parse(TextReader reader, string source)
    {
        var entries = new List<DictdIndexEntry>();
        int lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            string[] fields = line.Split('\t');
            if (fields.Length is < 3 or > 4)
            {
                throw new InvalidDataException(
                    $"dictd index '{source}', line {lineNumber}: expected 'headword<TAB>offset<TAB>length', found {fields.Length} tab-separated field(s).");
            }

            long offset = DecodeNumber(fields[1], source, lineNumber, "offset");
            long length = DecodeNumber(fields[2], source, lineNumber, "length");
            if (length > int.MaxValue)
            {
                throw new InvalidDataException($"dictd index '{source}', line {lineNumber}: entry length {length} is not plausible.");
            }

            entries.Add(new DictdIndexEntry(fields[0], offset, (int)length, lineNumber));
        }

        return entries;
    }

    /// <summary>Decodes one dictd base64 number (most significant digit first).</summary>
    /// <exception cref="FormatException">Empty, too long, or a character outside <see cref="Base64Digits"/>.</exception>
    public static long DecodeNumber(string digits)
    {
        if (digits.Length is 0 or > MaxDigits)
        {
            throw new FormatException($"'{digits}' is not a dictd base64 number of 1 to {MaxDigits} digits.");
        }

        long value = 0;
        foreach (char c in digits)
        {
            int digit = Base64Digits.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0)
            {
                throw new FormatException($"'{digits}' is not a dictd base64 number: '{c}' is not one of A-Z a-z 0-9 + /.");
            }

            value = value * 64 + digit;
        }

        return value;
    }

    /// <summary>Encodes a non-negative number in dictd's base64 (the inverse of <see cref="DecodeNumber(string)"/>).</summary>
    public static string EncodeNumber(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        Span<char> buffer = stackalloc char[11];
        int start = buffer.Length;
        do
        {
            buffer[--start] = Base64Digits[(int)(value % 64)];
            value /= 64;
        }
        while (value > 0);

        return new string(buffer[start..]);
    }

    private static long DecodeNumber(string digits, string source, int line, string what)
    {
        try
        {
            return DecodeNumber(digits);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"dictd index '{source}', line {line}: bad {what}: {e.Message}", e);
        }
    }
}

/// <summary>
/// A dictd dictionary held in memory: the index entries and the uncompressed body. The body file may be a plain
/// <c>.dict</c> or a <c>.dict.dz</c> (dictzip, which is gzip with an extra header field; detected by content).
/// </summary>
public sealed class DictdDictionary
{
    private readonly byte[] _body;

    private DictdDictionary(string indexPath, string bodyPath, IReadOnlyList<DictdIndexEntry> entries, byte[] body)
    {
        IndexPath = indexPath;
        BodyPath = bodyPath;
        Entries = entries;
        _body = body;
    }

    /// <summary>The index file read.</summary>
    public string IndexPath { get; }

    /// <summary>The body file read.</summary>
    public string BodyPath { get; }

    /// <summary>The index entries, in file order.</summary>
    public IReadOnlyList<DictdIndexEntry> Entries { get; }

    /// <summary>Size of the uncompressed body in bytes.</summary>
    public long BodyLength => _body.LongLength;

    /// <summary>
    /// Reads both files and checks that every index entry lies inside the body, so that <see cref="ReadEntry"/>
    /// cannot fail later on a damaged file.
    /// </summary>
    /// <exception cref="InvalidDataException">A malformed index line, a damaged compressed body, or an entry past the end of the body.</exception>
    public static DictdDictionary Load(string indexPath, string bodyPath)
    {
        IReadOnlyList<DictdIndexEntry> entries = DictdIndex.Read(indexPath);
        byte[] body = ReadBody(bodyPath);
        foreach (DictdIndexEntry entry in entries)
        {
            if (entry.Offset + entry.Length > body.LongLength)
            {
                throw new InvalidDataException(
                    $"dictd index '{indexPath}', line {entry.Line}: the entry '{entry.Headword}' at bytes {entry.Offset}..{entry.Offset + entry.Length} " +
                    $"lies past the end of '{bodyPath}' ({body.LongLength} bytes uncompressed); the files are damaged or do not belong together.");
            }
        }

        return new DictdDictionary(indexPath, bodyPath, entries, body);
    }

    /// <summary>The text of one entry (UTF-8; invalid bytes become U+FFFD).</summary>
    public string ReadEntry(DictdIndexEntry entry)
    {
        if (entry.Offset < 0 || entry.Length < 0 || entry.Offset + entry.Length > _body.LongLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(entry), $"The entry '{entry.Headword}' at bytes {entry.Offset}..{entry.Offset + entry.Length} lies outside the body of '{BodyPath}'.");
        }

        return Encoding.UTF8.GetString(_body, (int)entry.Offset, entry.Length);
    }

    /// <summary>Reads a body file, decompressing it when it starts with the gzip magic bytes.</summary>
    public static byte[] ReadBody(string path)
    {
        using FileStream file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        if (read < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            if (file.Length > Array.MaxLength)
            {
                throw new InvalidDataException($"dictd body '{path}' has {file.Length} bytes, more than one array can hold.");
            }

            var plain = new byte[file.Length];
            file.ReadExactly(plain);
            return plain;
        }

        try
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var memory = new MemoryStream();
            gzip.CopyTo(memory);
            return memory.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"dictd body '{path}' is a damaged gzip/dictzip file: {e.Message}", e);
        }
    }
}
