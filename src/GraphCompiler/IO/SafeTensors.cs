using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GraphCompiler;

/// <summary>A tensor to write: name, shape and float32 data (row-major, as many elements as the shape).</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">The values.</param>
public readonly record struct SafeTensor(string Name, int[] Shape, ReadOnlyMemory<float> Data);

/// <summary>Writes safetensors files; read them with <see cref="SafeTensorsFile"/>, load models with <see cref="Checkpoint"/>.</summary>
public static class SafeTensors
{
    /// <summary>
    /// Writes F32 tensors and optional <c>__metadata__</c> to <paramref name="path"/>, atomically: the bytes go to a
    /// temporary file in the same folder, are flushed to disk, and the temporary file then replaces
    /// <paramref name="path"/> by a rename. A crash (or an exception) mid-write leaves the previous file untouched; the
    /// temporary file is deleted on an exception, though one from a killed process stays behind as
    /// <c>name.tmp-xxxxxxxx</c>.
    /// </summary>
    /// <remarks>
    /// The header is padded with spaces so that the data section starts on an 8-byte boundary, as the reference
    /// implementation writes it; tensors follow in the order given.
    /// </remarks>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors, metadata, wrap: null);

    /// <summary>As the public overload; <paramref name="wrap"/> lets tests put a failing stream between writer and file.</summary>
    internal static void Write(
        string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata, Func<Stream, Stream>? wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeTensor[] list = tensors.ToArray();
        byte[] header = Header(list, metadata);
        string full = System.IO.Path.GetFullPath(path);
        string temp = $"{full}.tmp-{Random.Shared.Next():x8}";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                Stream stream = wrap?.Invoke(file) ?? file;
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (SafeTensor t in list)
                {
                    WriteLittleEndian(stream, t.Data.Span);
                }

                stream.Flush();
                file.Flush(flushToDisk: true); // the data must be on disk before the rename makes it the file
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Leaving a stray temporary file is better than hiding the original error.
            }

            throw;
        }
    }

    private static byte[] Header(SafeTensor[] tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (KeyValuePair<string, string> entry in metadata.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    json.WriteString(entry.Key, entry.Value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (SafeTensor t in tensors)
            {
                if (string.IsNullOrEmpty(t.Name) || t.Name == "__metadata__" || !names.Add(t.Name))
                {
                    throw new ArgumentException($"Tensor name '{t.Name}' is empty, reserved or used twice.", nameof(tensors));
                }

                long count = 1;
                foreach (int d in t.Shape)
                {
                    ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(SafeTensor.Shape));
                    count *= d;
                }

                if (count != t.Data.Length)
                {
                    throw new ArgumentException(
                        $"Tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] ({count} elements) but {t.Data.Length} values.",
                        nameof(tensors));
                }

                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += 4L * t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<int> chunk = stackalloc int[1024];
        for (int i = 0; i < values.Length; i += chunk.Length)
        {
            ReadOnlySpan<int> source = MemoryMarshal.Cast<float, int>(values.Slice(i, Math.Min(chunk.Length, values.Length - i)));
            BinaryPrimitives.ReverseEndianness(source, chunk);
            stream.Write(MemoryMarshal.AsBytes(chunk[..source.Length]));
        }
    }
}
