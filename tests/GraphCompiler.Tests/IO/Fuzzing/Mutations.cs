using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace GraphCompiler.Tests.IO.Fuzzing;

/// <summary>
/// Ways to damage a file, each a function of the random source and a valid file: byte-level ones for any format
/// (<see cref="Bytes"/>) and ones that know the safetensors header (<see cref="SafeTensorsHeader"/>) or the IDX
/// header (<see cref="IdxHeader"/>), which get past the first checks and reach the deeper ones.
/// </summary>
public static partial class Mutations
{
    public delegate byte[] Mutation(Random r, byte[] valid);

    /// <summary>Values that break sizes: zero, one, signed and unsigned limits, powers of two around them.</summary>
    private static readonly ulong[] InterestingNumbers =
    [
        0, 1, 2, 7, 8, 255, 256, 65535, 65536, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1,
        1UL << 40, long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue, 100_000_000, 100_000_001,
    ];

    /// <summary>Byte-level damage: flips, overwrites, truncations, extensions, insertions, deletions, splices, noise.</summary>
    public static readonly (string Name, Mutation Apply)[] Bytes =
    [
        ("bit flips", (r, v) =>
        {
            byte[] b = [.. v];
            for (int i = r.Next(1, 9); i > 0 && b.Length > 0; i--) b[r.Next(b.Length)] ^= (byte)(1 << r.Next(8));
            return b;
        }),
        ("byte overwrites", (r, v) =>
        {
            byte[] b = [.. v];
            byte[] values = [0x00, 0xff, 0x7f, 0x80, 0x01, (byte)'{', (byte)'"', (byte)'\\', (byte)r.Next(256)];
            for (int i = r.Next(1, 5); i > 0 && b.Length > 0; i--) b[r.Next(b.Length)] = values[r.Next(values.Length)];
            return b;
        }),
        ("truncation", (r, v) => v[..r.Next(v.Length)]),
        ("garbage appended", (r, v) => [.. v, .. Noise(r, r.Next(1, 64))]),
        ("bytes inserted", (r, v) =>
        {
            int at = r.Next(v.Length + 1);
            return [.. v[..at], .. Noise(r, r.Next(1, 16)), .. v[at..]];
        }),
        ("bytes deleted", (r, v) =>
        {
            if (v.Length == 0) return v;
            int at = r.Next(v.Length), count = r.Next(1, Math.Min(16, v.Length - at) + 1);
            return [.. v[..at], .. v[(at + count)..]];
        }),
        ("block duplicated", (r, v) =>
        {
            if (v.Length == 0) return v;
            int from = r.Next(v.Length), count = r.Next(1, Math.Min(64, v.Length - from) + 1), at = r.Next(v.Length + 1);
            return [.. v[..at], .. v.AsSpan(from, count), .. v[at..]];
        }),
        ("random bytes", (r, _) => Noise(r, r.Next(0, 200))),
    ];

    /// <summary>
    /// Damage inside the JSON header of a safetensors file; the 8-byte length is then usually rewritten to match, so that
    /// the reader gets past it to the JSON, the dtypes, the shapes and the offsets.
    /// </summary>
    public static readonly (string Name, Mutation Apply)[] SafeTensorsHeader =
    [
        ("header length", (r, v) =>
        {
            byte[] b = [.. v];
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(b);
            ulong[] choices = [.. InterestingNumbers, length - 1, length + 1, (ulong)b.Length - 8, (ulong)b.Length - 7, length * 2];
            BinaryPrimitives.WriteUInt64LittleEndian(b, choices[r.Next(choices.Length)]);
            return b;
        }),
        ("number in the header", (r, v) => EditHeader(r, v, json =>
        {
            MatchCollection numbers = NumberPattern().Matches(json);
            if (numbers.Count == 0) return json;
            Match m = numbers[r.Next(numbers.Count)];
            string[] values = [.. InterestingNumbers.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                "-1", "-9223372036854775808", "1e3", "1.5", "00", "0x10", "18446744073709551617", "99999999999999999999999", "NaN", "\"3\"", "[]", "null"];
            return json[..m.Index] + values[r.Next(values.Length)] + json[(m.Index + m.Length)..];
        })),
        ("shape or offsets in the header", (r, v) => EditHeader(r, v, json =>
        {
            MatchCollection arrays = ArrayPattern().Matches(json);
            if (arrays.Count == 0) return json;
            Match m = arrays[r.Next(arrays.Count)];
            string[] dims = [.. Enumerable.Range(0, r.Next(0, 4)).Select(_ => (r.Next(3) == 0 ? (ulong)r.Next(0, 100) : InterestingNumbers[r.Next(InterestingNumbers.Length)])
                .ToString(System.Globalization.CultureInfo.InvariantCulture))];
            return json[..m.Groups[1].Index] + string.Join(",", dims) + json[(m.Groups[1].Index + m.Groups[1].Length)..];
        })),
        ("string in the header", (r, v) => EditHeader(r, v, json =>
        {
            MatchCollection strings = StringPattern().Matches(json);
            if (strings.Count == 0) return json;
            Match m = strings[r.Next(strings.Count)];
            string[] values = ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I8\"", "\"U64\"", "\"BOOL\"", "\"F8_E4M3\"", "\"f32\"", "\"\"",
                "\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"fc.weight\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\x\"", "1", "{}", "[]"];
            return json[..m.Index] + values[r.Next(values.Length)] + json[(m.Index + m.Length)..];
        })),
        ("structure of the header", (r, v) => EditHeader(r, v, json =>
        {
            int at = r.Next(json.Length + 1);
            string[] pieces = ["{", "}", "[", "]", ",", ":", "\"", "\\", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}", "[[[[[[[[[[1]]]]]]]]]]", " ", "\u00e9", "\uffff"];
            return r.Next(2) == 0 && json.Length > 0
                ? json.Remove(Math.Min(at, json.Length - 1), 1)
                : json.Insert(at, pieces[r.Next(pieces.Length)]);
        })),
        ("invalid UTF-8 in the header", (r, v) =>
        {
            int length = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(v), (ulong)v.Length - 8);
            byte[] b = [.. v];
            byte[] bad = [0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0xfe, 0xff, 0xed, 0xa0, 0x80];
            int at = 8 + r.Next(Math.Max(1, length));
            b[Math.Min(at, b.Length - 1)] = bad[r.Next(bad.Length)];
            return b;
        }),
        ("tensor entry duplicated", (r, v) => EditHeader(r, v, json =>
        {
            MatchCollection entries = EntryPattern().Matches(json);
            if (entries.Count == 0) return json;
            Match m = entries[r.Next(entries.Count)];
            return json.Insert(m.Index, m.Value + ",");
        })),
    ];

    /// <summary>Damage to the IDX header fields: the magic number and each dimension, set to values that break sizes.</summary>
    public static readonly (string Name, Mutation Apply)[] IdxHeader =
    [
        ("magic number", (r, v) => SetInt(v, 0, new[] { 0x801, 0x803, 0x802, 0x800, 0x0803_0000, -1, 0 }[r.Next(7)])),
        ("dimension", (r, v) =>
        {
            int fields = v.Length >= 16 && BinaryPrimitives.ReadInt32BigEndian(v) == 0x803 ? 3 : 1;
            int[] values = [0, 1, -1, int.MaxValue, int.MinValue, 0x7fff_ffc7, 0x7fff_ffc8, 1 << 16, (1 << 16) + 1, 1 << 30, 46341, 2];
            return SetInt(v, 4 * (1 + r.Next(fields)), values[r.Next(values.Length)]);
        }),
        ("count off by one", (r, v) => SetInt(v, 4, BinaryPrimitives.ReadInt32BigEndian(v.AsSpan(4)) + (r.Next(2) == 0 ? 1 : -1))),
    ];

    /// <summary>A gzip stream of <paramref name="bytes"/> (IDX files may be compressed).</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return buffer.ToArray();
    }

    public static byte[] Noise(Random r, int length)
    {
        var b = new byte[length];
        r.NextBytes(b);
        return b;
    }

    private static byte[] SetInt(byte[] v, int offset, int value)
    {
        byte[] b = [.. v];
        if (offset + 4 <= b.Length) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(offset), value);
        return b;
    }

    /// <summary>Applies <paramref name="edit"/> to the header text; the length prefix follows the new header unless the draw says otherwise.</summary>
    private static byte[] EditHeader(Random r, byte[] v, Func<string, string> edit)
    {
        int length = (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(v), (ulong)v.Length - 8);
        string json = Encoding.UTF8.GetString(v, 8, length);
        byte[] header = Encoding.UTF8.GetBytes(edit(json));
        var b = new byte[8 + header.Length + v.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(b, r.Next(8) == 0 ? (ulong)length : (ulong)header.Length);
        header.CopyTo(b, 8);
        v.AsSpan(8 + length).CopyTo(b.AsSpan(8 + header.Length));
        return b;
    }

    [GeneratedRegex(@"-?\d+")]
    private static partial Regex NumberPattern();

    [GeneratedRegex("\"(?:shape|data_offsets)\":\\[([^\\]]*)\\]")]
    private static partial Regex ArrayPattern();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringPattern();

    [GeneratedRegex("\"[^\"]+\":\\{\"dtype\"[^}]*\\}")]
    private static partial Regex EntryPattern();
}
