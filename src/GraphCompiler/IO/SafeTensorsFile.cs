using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace GraphCompiler;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions (empty for a scalar).</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>
    /// Number of elements (the product of the shape). Throws <see cref="OverflowException"/> when the product exceeds a
    /// long, which <see cref="SafeTensorsFile.Open"/> reports as a problem of the file.
    /// </summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape)
            {
                n = checked(n * d);
            }

            return n;
        }
    }

    /// <summary>The shape as PyTorch prints it, e.g. <c>[32, 1, 3, 3]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// An open safetensors file (the format of Hugging Face's <c>safetensors</c> library): an 8-byte little-endian header
/// length N, N bytes of JSON <c>{name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}</c>, then the
/// data section, little-endian, row-major.
/// </summary>
/// <remarks>
/// <see cref="Open"/> reads and validates the whole header against the file, as strictly as the reference
/// implementation: sane header length, JSON that starts with <c>{</c>, known dtypes, non-negative shapes,
/// <c>data_offsets</c> consistent with dtype and shape, tensors that tile the data section without overlaps or holes,
/// and a file neither truncated nor carrying trailing bytes. Every problem found is reported in one
/// <see cref="CheckpointException"/>. The data is read only on request.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(
        string path, SafeFileHandle handle, long length, long dataStart, List<SafeTensorInfo> tensors,
        Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        Length = length;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafeTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (SafeTensorInfo t in tensors)
        {
            _byName.Add(t.Name, t);
        }
    }

    /// <summary>The file's path as given.</summary>
    public string Path { get; }

    /// <summary>The file's length in bytes.</summary>
    public long Length { get; }

    /// <summary>Offset of the data section: 8 plus the header length.</summary>
    public long DataStart { get; }

    /// <summary>The tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens <paramref name="path"/> and validates its header; throws <see cref="CheckpointException"/>.</summary>
    public static SafeTensorsFile Open(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot be opened: {e.Message}", e);
        }

        try
        {
            return Parse(path, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool TryGetTensor(string name, [NotNullWhen(true)] out SafeTensorInfo? tensor) =>
        _byName.TryGetValue(name, out tensor);

    /// <summary>The tensor named <paramref name="name"/>; throws <see cref="CheckpointException"/> when absent.</summary>
    public SafeTensorInfo this[string name] =>
        _byName.TryGetValue(name, out SafeTensorInfo? t) ? t : throw new CheckpointException(Path, $"tensor '{name}' is missing");

    /// <summary>Reads a tensor into a new array, converted to float.</summary>
    public float[] ReadAsFloat(string name)
    {
        SafeTensorInfo tensor = this[name];
        if (tensor.ElementCount > Array.MaxLength)
        {
            throw new CheckpointException(Path, $"tensor '{name}' has {tensor.ElementCount} elements, more than one array can hold");
        }

        var values = new float[tensor.ElementCount];
        ReadAsFloat(tensor, values);
        return values;
    }

    /// <summary>
    /// Reads a tensor of type F32, F16, BF16 or F64 into <paramref name="destination"/> (exactly its element count),
    /// converted to float.
    /// </summary>
    public void ReadAsFloat(SafeTensorInfo tensor, Span<float> destination)
    {
        if (!tensor.DType.IsReadableAsFloat())
        {
            throw new CheckpointException(Path, $"tensor '{tensor.Name}': dtype {tensor.DType.Name()} cannot be read as float");
        }

        if (destination.Length != tensor.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{tensor.Name}' has {tensor.ElementCount} elements; the destination holds {destination.Length}.",
                nameof(destination));
        }

        long offset = DataStart + tensor.Begin;
        if (tensor.DType == SafeTensorsDType.F32)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(destination);
            ReadExactly(offset, bytes, tensor.Name);
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> words = MemoryMarshal.Cast<float, int>(destination);
                BinaryPrimitives.ReverseEndianness(words, words);
            }

            return;
        }

        int size = tensor.DType.Size();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int perChunk = chunk.Length / size;
            for (int done = 0; done < destination.Length; done += perChunk)
            {
                int count = Math.Min(perChunk, destination.Length - done);
                Span<byte> bytes = chunk.AsSpan(0, count * size);
                ReadExactly(offset + (long)done * size, bytes, tensor.Name);
                Convert(tensor.DType, bytes, destination.Slice(done, count));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();

    private static void Convert(SafeTensorsDType type, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = type switch
            {
                SafeTensorsDType.F16 => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..])),
                SafeTensorsDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
            };
        }
    }

    private void ReadExactly(long offset, Span<byte> destination, string tensor)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read == 0)
            {
                // Open() checked the length: the file was cut while open.
                throw new CheckpointException(Path, $"tensor '{tensor}': the file ended at byte {offset} while reading its data");
            }

            destination = destination[read..];
            offset += read;
        }
    }

    private static SafeTensorsFile Parse(string path, SafeFileHandle handle)
    {
        long length = RandomAccess.GetLength(handle);
        if (length < 8)
        {
            throw new CheckpointException(path, $"the file has {length} bytes, fewer than the 8-byte header length of the safetensors format");
        }

        Span<byte> prefix = stackalloc byte[8];
        ReadAll(handle, prefix, 0, path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > MaxHeaderLength || headerLength > (ulong)(length - 8))
        {
            throw new CheckpointException(
                path,
                $"the header length {headerLength} is not plausible for a file of {length} bytes " +
                $"(not a safetensors file, or truncated)");
        }

        var header = new byte[(int)headerLength];
        ReadAll(handle, header, 8, path);
        if (header[0] != (byte)'{')
        {
            throw new CheckpointException(path, "the header does not start with '{' (not a safetensors file)");
        }

        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        try
        {
            ParseHeader(header, tensors, metadata, problems);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(
                path, $"the header is not valid JSON (byte {e.BytePositionInLine} of the header): {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(path, e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            // A string that is not valid UTF-8.
            throw new CheckpointException(path, $"the header holds an unreadable string: {e.Message}", e);
        }

        long dataStart = 8 + (long)headerLength;
        CheckLayout(tensors, length - dataStart, problems);
        if (problems.Count > 0)
        {
            throw new CheckpointException(path, problems);
        }

        return new SafeTensorsFile(path, handle, length, dataStart, tensors, metadata);
    }

    private static void ReadAll(SafeFileHandle handle, Span<byte> destination, long offset, string path)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(handle, destination, offset);
            if (read == 0)
            {
                throw new CheckpointException(path, $"the file ended at byte {offset} while reading the header");
            }

            destination = destination[read..];
            offset += read;
        }
    }

    /// <summary>Structural errors (wrong JSON types) throw; per-tensor content errors go to <paramref name="problems"/>.</summary>
    private static void ParseHeader(
        byte[] header, List<SafeTensorInfo> tensors, Dictionary<string, string> metadata, List<string> problems)
    {
        // Trailing spaces are the format's padding; the reader treats them as whitespace.
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        Expect(ref reader, JsonTokenType.StartObject, "the header");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw new InvalidDataException($"the header names '{name}' twice");
            }

            if (name == MetadataKey)
            {
                Expect(ref reader, JsonTokenType.StartObject, "'__metadata__'");
                while (Next(ref reader) != JsonTokenType.EndObject)
                {
                    string key = reader.GetString()!;
                    Expect(ref reader, JsonTokenType.String, $"'__metadata__' entry '{key}'");
                    if (!metadata.TryAdd(key, reader.GetString()!))
                    {
                        throw new InvalidDataException($"'__metadata__' names '{key}' twice");
                    }
                }

                continue;
            }

            tensors.Add(ParseTensor(ref reader, name, problems));
        }

        if (reader.Read())
        {
            throw new InvalidDataException("the header has data after its closing '}'");
        }
    }

    private static SafeTensorInfo ParseTensor(ref Utf8JsonReader reader, string name, List<string> problems)
    {
        string what = $"tensor '{name}'";
        Expect(ref reader, JsonTokenType.StartObject, what);
        string? dtype = null;
        List<long>? shape = null;
        List<long>? offsets = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            switch (key)
            {
                case "dtype":
                    Expect(ref reader, JsonTokenType.String, $"{what}: 'dtype'");
                    dtype = reader.GetString();
                    break;
                case "shape":
                    shape = ReadIntegers(ref reader, $"{what}: 'shape'");
                    break;
                case "data_offsets":
                    offsets = ReadIntegers(ref reader, $"{what}: 'data_offsets'");
                    break;
                default:
                    reader.Skip(); // unknown fields are ignored, as by the reference implementation
                    break;
            }
        }

        SafeTensorsDType type = SafeTensorsDType.U8;
        bool valid = true;
        if (dtype is null || shape is null || offsets is null)
        {
            problems.Add($"{what}: the entry lacks {(dtype is null ? "'dtype'" : shape is null ? "'shape'" : "'data_offsets'")}");
            valid = false;
        }
        else if (!SafeTensorsDTypes.TryParse(dtype, out type))
        {
            problems.Add($"{what}: unknown dtype '{dtype}'");
            valid = false;
        }
        else if (offsets.Count != 2)
        {
            problems.Add($"{what}: 'data_offsets' holds {offsets.Count} numbers, not [begin, end]");
            valid = false;
        }

        if (!valid)
        {
            return new SafeTensorInfo(name, type, [], -1, -1); // excluded from the layout checks
        }

        long begin = offsets![0], end = offsets[1];
        var info = new SafeTensorInfo(name, type, shape!.ToArray(), begin, end);
        long bytes;
        try
        {
            bytes = checked(info.ElementCount * type.Size());
        }
        catch (OverflowException)
        {
            problems.Add($"{what}: shape {info.ShapeText} is too large");
            return info with { Begin = -1, End = -1 };
        }

        if (end < begin)
        {
            problems.Add($"{what}: data_offsets [{begin}, {end}] end before they begin");
            return info with { Begin = -1, End = -1 };
        }

        if (end - begin != bytes)
        {
            problems.Add(
                $"{what}: data_offsets [{begin}, {end}] span {end - begin} bytes, but dtype {dtype} with shape " +
                $"{info.ShapeText} needs {bytes}");
        }

        return info;
    }

    /// <summary>The tensors must tile [0, dataLength) exactly: no overlap, no hole, nothing beyond the file.</summary>
    private static void CheckLayout(List<SafeTensorInfo> tensors, long dataLength, List<string> problems)
    {
        SafeTensorInfo[] placed = tensors.Where(t => t.Begin >= 0).OrderBy(t => t.Begin).ThenBy(t => t.End).ToArray();
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (SafeTensorInfo t in placed)
        {
            if (t.Begin < covered)
            {
                problems.Add($"tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            }
            else if (t.Begin > covered)
            {
                problems.Add($"tensor '{t.Name}': {t.Begin - covered} bytes before it at data offset {covered} belong to no tensor");
            }

            if (t.End > covered)
            {
                covered = t.End;
                previous = t;
            }

            if (t.End > dataLength)
            {
                problems.Add(
                    $"tensor '{t.Name}': its data ends at byte {t.End} of the data section, which holds only {dataLength} " +
                    "bytes (the file is truncated)");
            }
        }

        if (covered < dataLength && placed.Length == tensors.Count)
        {
            problems.Add($"the file has {dataLength - covered} bytes after the last tensor's data that belong to no tensor");
        }
    }

    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string what)
    {
        Expect(ref reader, JsonTokenType.StartArray, what);
        var values = new List<long>();
        while (true)
        {
            if (!reader.Read())
            {
                throw new InvalidDataException($"{what}: the header ends inside the array");
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return values;
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
            {
                throw new InvalidDataException($"{what}: holds something other than a non-negative integer");
            }

            values.Add(value);
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw new InvalidDataException($"{what} is not a JSON {Describe(type)}");
        }
    }

    /// <summary>Reads the next property name of an object, or its end.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new InvalidDataException("the header ends inside an object");
        }

        return reader.TokenType;
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        _ => "string",
    };
}
