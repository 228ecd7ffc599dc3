using System.Buffers.Binary;
using System.Text;
using GraphCompiler.Tests.Training;
using Xunit;

namespace GraphCompiler.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ParameterSet Model(int seed = 1) => TestParameters.Create(seed, ("fc.weight", [2, 3]), ("fc.bias", [2]));

    [Fact]
    public void Round_trip_with_optimizer_state_and_metadata()
    {
        ParameterSet model = TestParameters.Create(4, ("conv1.weight", [4, 1, 3, 3]), ("conv1.bias", [4]), ("fc.weight", [10, 36]));
        var adam = new AdamW(model);
        for (int t = 0; t < 3; t++)
        {
            adam.Step(TestParameters.RandomGradient(model, t));
        }

        string path = _dir.File("model.safetensors");
        Checkpoint.Save(path, model, adam, new Dictionary<string, string> { ["epoch"] = "7" });

        ParameterSet loaded = TestParameters.Create(99, ("conv1.weight", [4, 1, 3, 3]), ("conv1.bias", [4]), ("fc.weight", [10, 36]));
        var loadedAdam = new AdamW(loaded);
        int version = loaded.Version;
        IReadOnlyDictionary<string, string> metadata = Checkpoint.Load(path, loaded, loadedAdam);

        Assert.Equal(model.ReadAll().ToArray(), loaded.ReadAll().ToArray());
        Assert.True(loaded.Version > version);
        Assert.Equal(3, loadedAdam.StepCount);
        for (int i = 0; i < adam.State.Count; i++)
        {
            Assert.Equal(adam.State[i].Buffer.Span.ToArray(), loadedAdam.State[i].Buffer.Span.ToArray());
        }

        Assert.Equal("7", metadata["epoch"]);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal("AdamW", metadata[Checkpoint.OptimizerKey]);

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.DataStart % 8);
        Assert.Equal([4L, 1, 3, 3], file["optimizer.exp_avg_sq.conv1.weight"].Shape);
        Assert.Equal(3 + 2 * 3, file.Tensors.Count);

        // Parameters alone load from the same file: the optimizer entries are extras.
        ParameterSet onlyWeights = TestParameters.Create(5, ("conv1.weight", [4, 1, 3, 3]), ("conv1.bias", [4]), ("fc.weight", [10, 36]));
        Checkpoint.Load(path, onlyWeights, options: new CheckpointLoadOptions { AllowExtraTensors = false });
        Assert.Equal(model.ReadAll().ToArray(), onlyWeights.ReadAll().ToArray());
    }

    [Fact]
    public void A_file_built_byte_by_byte_in_the_format_loads()
    {
        // Header exactly as the reference implementation would accept it, unpadded, in non-offset order.
        string header =
            "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}," +
            "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        float[] data = [1f, 2f, 3f, 4f, 5f, 6f, -1f, -2f];
        string path = WriteRaw("hand.safetensors", header, F32Bytes(data));

        ParameterSet model = Model();
        Checkpoint.Load(path, model);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], model.Read("fc.weight").ToArray());
        Assert.Equal([-1f, -2f], model.Read("fc.bias").ToArray());

        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(["fc.bias", "fc.weight"], file.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Written_bytes_follow_the_format()
    {
        string path = _dir.File("w.safetensors");
        SafeTensors.Write(path, [new SafeTensor("a", [3], new float[] { 1f, -2f, 0.5f })], new Dictionary<string, string> { ["k"] = "v" });
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string json = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal("{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", json.TrimEnd(' '));
        Assert.Equal(0UL, (8 + n) % 8);
        Assert.Equal(8 + (int)n + 12, bytes.Length);
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 4)));
    }

    [Fact]
    public void Half_bfloat_and_double_tensors_are_converted()
    {
        var data = new List<byte>();
        foreach (float v in new[] { 1.5f, -2f, 0.25f, 3f, 65504f, -0.5f })
        {
            data.AddRange(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)v))); // fc.weight, F16
        }

        data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(-3.25f) >> 16))); // fc.bias, BF16
        data.AddRange(BitConverter.GetBytes((ushort)(BitConverter.SingleToInt32Bits(128f) >> 16)));
        data.AddRange(BitConverter.GetBytes(0.1)); // extra, F64
        string header =
            "{\"fc.weight\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}," +
            "\"fc.bias\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]}," +
            "\"extra\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[16,24]}}";
        string path = WriteRaw("mixed.safetensors", header, data.ToArray());

        ParameterSet model = Model();
        Checkpoint.Load(path, model);
        Assert.Equal([1.5f, -2f, 0.25f, 3f, 65504f, -0.5f], model.Read("fc.weight").ToArray());
        Assert.Equal([-3.25f, 128f], model.Read("fc.bias").ToArray());
        using (SafeTensorsFile file = SafeTensorsFile.Open(path))
        {
            Assert.Equal([0.1f], file.ReadAsFloat("extra"));
        }

        ParameterSet strict = Model();
        float[] before = strict.ReadAll().ToArray();
        var e = Assert.Throws<CheckpointException>(() =>
            Checkpoint.Load(path, strict, options: new CheckpointLoadOptions { AllowFloatConversion = false }));
        Assert.Contains("tensor 'fc.weight': dtype F16 where F32 is expected", e.Message);
        Assert.Contains("tensor 'fc.bias': dtype BF16", e.Message);
        Assert.Equal(before, strict.ReadAll().ToArray());
    }

    public static TheoryData<string, byte[], string> CorruptFiles()
    {
        byte[] valid = F32Bytes(new float[8]);
        const string good =
            "{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," +
            "\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}";
        return new TheoryData<string, byte[], string>
        {
            { "tiny", [1, 2, 3], "fewer than the 8-byte header length" },
            { "huge header length", Raw(ulong.MaxValue / 2, "{}", []), "header length" },
            { "header beyond the file", Raw(4096, good, valid), "header length 4096 is not plausible" },
            { "not JSON", Raw(null, "{\"fc.weight\": {\"dtype\": F32}}", valid), "not valid JSON" },
            { "not an object", Raw(null, "[1, 2, 3]", valid), "does not start with '{'" },
            { "trailing garbage in header", Raw(null, good + "}", valid), "not valid JSON" },
            { "metadata not strings", Raw(null, "{\"__metadata__\":{\"a\":1}}", []), "'__metadata__' entry 'a' is not a JSON string" },
            { "negative shape", Raw(null, good.Replace("[2,3]", "[-2,3]"), valid), "tensor 'fc.weight': 'shape': holds something other than a non-negative integer" },
            { "unknown dtype", Raw(null, good.Replace("\"F32\",\"shape\":[2]", "\"F17\",\"shape\":[2]"), valid), "tensor 'fc.bias': unknown dtype 'F17'" },
            { "size mismatch", Raw(null, good.Replace("[0,24]", "[0,20]"), valid), "tensor 'fc.weight': data_offsets [0, 20] span 20 bytes, but dtype F32 with shape [2, 3] needs 24" },
            { "overlap", Raw(null, good.Replace("[24,32]", "[16,24]"), valid), "tensor 'fc.bias': data_offsets [16, 24] overlap tensor 'fc.weight'" },
            { "hole", Raw(null, good.Replace("[24,32]", "[28,36]"), F32Bytes(new float[9])), "4 bytes before it at data offset 24 belong to no tensor" },
            { "truncated", Raw(null, good, valid[..30]), "tensor 'fc.bias': its data ends at byte 32 of the data section, which holds only 30 bytes (the file is truncated)" },
            { "trailing bytes", Raw(null, good, F32Bytes(new float[9])), "4 bytes after the last tensor's data" },
            { "duplicate", Raw(null, good.Replace("\"fc.bias\"", "\"fc.weight\""), valid), "names 'fc.weight' twice" },
            { "missing offsets", Raw(null, good.Replace(",\"data_offsets\":[24,32]", ""), valid), "tensor 'fc.bias': the entry lacks 'data_offsets'" },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Corrupt_files_give_a_named_error_and_leave_the_weights(string name, byte[] bytes, string expected)
    {
        string path = _dir.File(name.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, expected);
    }

    [Fact]
    public void A_truncated_checkpoint_written_by_Save_is_rejected()
    {
        string path = _dir.File("cut.safetensors");
        Checkpoint.Save(path, Model(3));
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(stream.Length - 5);
        }

        AssertRejected(path, "tensor 'fc.bias': its data ends at byte 32 of the data section, which holds only 27 bytes (the file is truncated)");
    }

    [Fact]
    public void Wrong_shape_wrong_dtype_and_missing_tensors_are_all_named()
    {
        string header =
            "{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[0,24]}," +
            "\"other\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[24,32]}}";
        string path = WriteRaw("mismatch.safetensors", header, F32Bytes(new float[8]));
        CheckpointException e = AssertRejected(path, "tensor 'fc.weight': shape [2, 3] expected, the file has [3, 2]");
        Assert.Contains("tensor 'fc.bias' is missing", e.Problems);
        Assert.Equal(2, e.Problems.Count);

        string dtype = WriteRaw(
            "dtype.safetensors",
            "{\"fc.weight\":{\"dtype\":\"I32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," +
            "\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}",
            F32Bytes(new float[8]));
        AssertRejected(dtype, "tensor 'fc.weight': dtype I32 where F32, F16, BF16 or F64 is expected");
    }

    [Fact]
    public void Extra_tensors_are_allowed_unless_strict()
    {
        string path = _dir.File("extra.safetensors");
        ParameterSet bigger = TestParameters.Create(2, ("fc.weight", [2, 3]), ("fc.bias", [2]), ("bn.running_mean", [2]));
        Checkpoint.Save(path, bigger);

        ParameterSet model = Model();
        Checkpoint.Load(path, model);
        Assert.Equal(bigger.Read("fc.weight").ToArray(), model.Read("fc.weight").ToArray());

        AssertRejected(path, "tensor 'bn.running_mean' is not part of the model", new CheckpointLoadOptions { AllowExtraTensors = false });
    }

    [Fact]
    public void Optimizer_state_must_match_the_optimizer()
    {
        string path = _dir.File("adam.safetensors");
        ParameterSet saved = Model(2);
        var adam = new Adam(saved);
        adam.Step(new float[saved.BufferLength]);
        Checkpoint.Save(path, saved, adam);

        ParameterSet model = Model();
        var sgd = new Sgd(model, 0.1f, momentum: 0.9f);
        sgd.Step(TestParameters.RandomGradient(model, 1));
        float[] momentum = sgd.State[0].Buffer.Span.ToArray();
        float[] before = model.ReadAll().ToArray();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, model, sgd));
        Assert.Contains("the optimizer state is Adam's; SGD state was asked for", e.Message);
        Assert.Contains("tensor 'optimizer.momentum_buffer.fc.weight' is missing", e.Message);
        Assert.Equal(before, model.ReadAll().ToArray());
        Assert.Equal(momentum, sgd.State[0].Buffer.Span.ToArray());
        Assert.Equal(1, sgd.StepCount);

        string weightsOnly = _dir.File("weights.safetensors");
        Checkpoint.Save(weightsOnly, saved);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(weightsOnly, model, new Adam(model)));
        Assert.Contains("holds no optimizer state", e.Message);
    }

    [Fact]
    public void A_missing_file_is_a_checkpoint_error()
    {
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(_dir.File("none.safetensors"), Model()));
        Assert.Contains("cannot be opened", e.Message);
    }

    [Fact]
    public void A_save_failing_midway_keeps_the_previous_file_and_leaves_no_temporary()
    {
        string path = _dir.File("model.safetensors");
        ParameterSet model = TestParameters.Create(1, ("w", [1000]));
        Checkpoint.Save(path, model);
        float[] saved = model.ReadAll().ToArray();
        byte[] previous = File.ReadAllBytes(path);

        model.Values.Fill(42f);
        Assert.Throws<IOException>(() => Checkpoint.Save(path, model, null, null, s => new FailingStream(s, failAfter: 2000)));

        Assert.Equal(previous, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
        Checkpoint.Load(path, model);
        Assert.Equal(saved, model.ReadAll().ToArray());
    }

    private CheckpointException AssertRejected(string path, string expected, CheckpointLoadOptions? options = null)
    {
        ParameterSet model = Model();
        var adam = new Adam(model);
        float[] before = model.ReadAll().ToArray();
        int version = model.Version;
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, model, options: options));
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(before, model.ReadAll().ToArray());
        Assert.Equal(version, model.Version);
        Assert.Equal(0, adam.StepCount);
        return e;
    }

    private string WriteRaw(string name, string header, byte[] data)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, Raw(null, header, data));
        return path;
    }

    private static byte[] Raw(ulong? headerLength, string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static byte[] F32Bytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }
}

/// <summary>Passes writes through until <c>failAfter</c> bytes, then throws as a full disk would.</summary>
internal sealed class FailingStream(Stream inner, long failAfter) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > failAfter)
        {
            int allowed = (int)(failAfter - _written);
            inner.Write(buffer[..allowed]);
            _written = failAfter;
            throw new IOException("No space left on device (simulated).");
        }

        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
