using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using GraphCompiler.Tests.IO.Fuzzing;
using GraphCompiler.Tests.Training;
using Xunit;
using Xunit.Abstractions;

namespace GraphCompiler.Tests.IO;

/// <summary>
/// The file readers on random and damaged files (<see cref="Mutations"/> of valid ones, and noise): a rejected file
/// throws only the reader's documented exception, never another (no IndexOutOfRange, Overflow, OutOfMemory,
/// NullReference), every input finishes, an accepted file is consistent, and a failed <see cref="Checkpoint.Load"/>
/// leaves the parameters, their version and the optimizer as they were. Inputs are drawn from fixed seeds, so every
/// run tries the same ones; <see cref="InputsVariable"/> tries more.
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output) : IDisposable
{
    public const string InputsVariable = "GRAPHCOMPILER_FUZZ_INPUTS";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int Inputs => int.TryParse(Environment.GetEnvironmentVariable(InputsVariable), out int n) ? n : 3000;

    [Fact]
    public void SafeTensorsFile_rejects_damaged_files_with_CheckpointException_only()
    {
        byte[][] seeds = SafeTensorsSeeds();
        var fuzzer = new Fuzzer(_dir.File("fuzz.safetensors"), seed: 11, typeof(CheckpointException));
        fuzzer.Guarded(() =>
        {
            for (int i = 0; i < Inputs; i++)
            {
                (string what, byte[] bytes) = SafeTensorsInput(fuzzer.Random, seeds);
                fuzzer.Run(what, bytes, path =>
                {
                    using SafeTensorsFile file = SafeTensorsFile.Open(path);
                    CheckConsistent(file);
                    foreach (SafeTensorInfo t in file.Tensors.Where(t => t.DType.IsReadableAsFloat()))
                    {
                        file.ReadAsFloat(t, new float[t.ElementCount]);
                    }
                });
            }
        });

        Report(fuzzer, "SafeTensorsFile.Open and ReadAsFloat");
    }

    [Fact]
    public void Checkpoint_Load_rejects_damaged_files_and_leaves_parameters_and_optimizer_unchanged()
    {
        ParameterSet parameters = Parameters();
        var optimizer = new Adam(parameters, learningRate: 0.01f);
        optimizer.Step(TestParameters.RandomGradient(parameters, seed: 3));
        optimizer.Step(TestParameters.RandomGradient(parameters, seed: 4));
        string valid = _dir.File("valid.safetensors");
        Checkpoint.Save(valid, parameters, optimizer);
        byte[][] seeds = [.. SafeTensorsSeeds(), File.ReadAllBytes(valid)];

        var fuzzer = new Fuzzer(_dir.File("fuzz.safetensors"), seed: 12, typeof(CheckpointException));
        var partial = new List<string>();
        fuzzer.Guarded(() =>
        {
            for (int i = 0; i < Inputs; i++)
            {
                (string what, byte[] bytes) = SafeTensorsInput(fuzzer.Random, seeds);
                Adam? withOptimizer = i % 2 == 0 ? optimizer : null;
                int version = parameters.Version, steps = optimizer.StepCount;
                int[] values = Bits(parameters.ReadAll()), moments = Bits(optimizer.State[0].Buffer.Span);
                var options = new CheckpointLoadOptions { AllowExtraTensors = i % 3 != 0, AllowFloatConversion = i % 5 != 0 };
                Outcome outcome = fuzzer.Run(what, bytes, path => Checkpoint.Load(path, parameters, withOptimizer, options));
                if (outcome != Outcome.Accepted &&
                    (parameters.Version != version || optimizer.StepCount != steps || !Bits(parameters.ReadAll()).AsSpan().SequenceEqual(values)
                     || !Bits(optimizer.State[0].Buffer.Span).AsSpan().SequenceEqual(moments)))
                {
                    partial.Add($"Input {fuzzer.Tried} ({what}) failed to load but changed the parameters or the optimizer");
                }
            }
        });

        Report(fuzzer, "Checkpoint.Load");
        output.WriteLine($"Checkpoint.Load: {partial.Count} failed loads left partial state");
        Assert.True(partial.Count == 0, string.Join(Environment.NewLine, partial.Take(5)));
    }

    [Fact]
    public void IdxFile_rejects_damaged_files_with_InvalidDataException_only()
    {
        string images = _dir.File("images.idx"), labels = _dir.File("labels.idx");
        IdxFile.WriteImages(images, 4, 5, Mutations.Noise(new Random(1), 3 * 4 * 5));
        IdxFile.WriteLabels(labels, [3, 1, 4, 1, 5, 9, 2]);
        byte[][] seeds = [File.ReadAllBytes(images), File.ReadAllBytes(labels)];
        seeds = [.. seeds, .. seeds.Select(Mutations.Gzip)];

        var fuzzer = new Fuzzer(_dir.File("fuzz.idx"), seed: 13, typeof(InvalidDataException));
        fuzzer.Guarded(() =>
        {
            for (int i = 0; i < Inputs; i++)
            {
                Random r = fuzzer.Random;
                byte[] seed = seeds[r.Next(seeds.Length)];
                bool gzipped = seed[0] == 0x1f;
                string what;
                byte[] bytes;
                if (r.Next(3) == 0)
                {
                    // Damage the header of the content, then compress it again if the file was compressed: the reader
                    // sees a valid gzip stream of a broken IDX file.
                    byte[] plain = gzipped ? seeds[Array.IndexOf(seeds, seed) - 2] : seed;
                    (string name, Mutations.Mutation header) = Mutations.IdxHeader[r.Next(Mutations.IdxHeader.Length)];
                    bytes = header(r, plain);
                    what = name + (gzipped ? " (gzip)" : "");
                    if (r.Next(3) == 0) (what, bytes) = ($"{what}, then {Mutations.Bytes[2].Name}", Mutations.Bytes[2].Apply(r, bytes));
                    if (gzipped) bytes = Mutations.Gzip(bytes);
                }
                else
                {
                    (string name, Mutations.Mutation mutation) = Mutations.Bytes[r.Next(Mutations.Bytes.Length)];
                    bytes = mutation(r, seed);
                    what = name + (gzipped ? " of a gzip file" : "");
                }

                bool images3d = i % 2 == 0;
                fuzzer.Run(what, bytes, path =>
                {
                    if (images3d)
                    {
                        IdxImages read = IdxFile.ReadImages(path);
                        Assert.Equal((long)read.Count * read.Rows * read.Columns, read.Pixels.LongLength);
                    }
                    else
                    {
                        IdxFile.ReadLabels(path);
                    }
                });
            }
        });

        Report(fuzzer, "IdxFile.ReadImages and ReadLabels");
    }

    [Fact]
    public void Only_the_allowed_exception_counts_as_a_rejection()
    {
        var fuzzer = new Fuzzer(_dir.File("kinds.bin"), seed: 15, typeof(InvalidDataException));

        Assert.Equal(Outcome.Rejected, fuzzer.Run("documented", [1], _ => throw new InvalidDataException("bad header")));
        Assert.Equal(Outcome.Crashed, fuzzer.Run("index", [2], _ => throw new IndexOutOfRangeException()));
        Assert.Equal(Outcome.Crashed, fuzzer.Run("check", [3], _ => Assert.Fail("inconsistent")));
        Assert.Equal(Outcome.Accepted, fuzzer.Run("fine", [4], _ => { }));

        Assert.Equal((4, 1, 1, 2), (fuzzer.Tried, fuzzer.Rejected, fuzzer.Accepted, fuzzer.Crashes.Count));
    }

    [Fact]
    public void An_input_that_never_finishes_is_reported_as_a_hang()
    {
        using var never = new ManualResetEventSlim();
        var fuzzer = new Fuzzer(_dir.File("hang.bin"), seed: 14, typeof(InvalidDataException)) { PerInputLimit = TimeSpan.FromMilliseconds(100) };

        var e = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => fuzzer.Guarded(() =>
        {
            fuzzer.Run("quick", [1], _ => { });
            fuzzer.Run("stuck", [2], _ => never.Wait());
        }));
        never.Set();

        Assert.Contains("Input 2 (stuck", e.Message, StringComparison.Ordinal);
        Assert.Contains("(a hang)", e.Message, StringComparison.Ordinal);
    }

    // ---- Regressions: what the fuzzer found, each as a test of its own -----------------------------------------------

    [Theory]
    [InlineData("[4294967296,4294967296]", 0)] // 2^64 elements: the product wrapped to 0, and [0, 0] passed as its byte range
    [InlineData("[4611686018427387904,4]", 0)] // 2^64 elements again, as 2^62 x 4
    [InlineData("[3,6148914691236517206]", 8)] // 2^64 + 2 elements: wrapped to 2, so 8 bytes of data passed for them
    public void A_shape_whose_size_overflows_is_rejected(string shape, int bytes)
    {
        string path = _dir.File("overflow.safetensors");
        File.WriteAllBytes(path, SafeTensorsBytes($"{{\"t\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[0,{bytes}]}}}}", new byte[bytes]));

        var e = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open(path).Dispose());

        Assert.Contains("is too large", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(int.MaxValue)]       // above Array.MaxLength: allocating it threw OutOfMemoryException
    [InlineData(0x7fff_ffc7)]        // Array.MaxLength itself: a 2 GB allocation for a 9-byte file
    public void A_label_count_beyond_the_file_is_rejected_before_allocating_it(int count)
    {
        string path = _dir.File("labels.idx");
        var bytes = new byte[9];
        BinaryPrimitives.WriteInt32BigEndian(bytes, IdxFile.LabelsMagic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), count);
        File.WriteAllBytes(path, bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(path));

        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("only 1 bytes follow", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the reader allocated what the header promised");
    }

    [Fact]
    public void An_image_count_beyond_a_gzip_stream_is_rejected_before_allocating_it()
    {
        // A compressed file has no length to check the header against: the buffer grows with the data instead.
        string path = _dir.File("images.idx.gz");
        var header = new byte[16 + 10];
        BinaryPrimitives.WriteInt32BigEndian(header, IdxFile.ImagesMagic);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 20_000_000);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), 10);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), 10);
        File.WriteAllBytes(path, Mutations.Gzip(header));
        long before = GC.GetAllocatedBytesForCurrentThread();

        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));

        Assert.Contains("only 10 bytes follow", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the reader allocated what the header promised");
    }

    // ---- Inputs ------------------------------------------------------------------------------------------------------

    /// <summary>A damaged copy of one of the valid files (header-aware damage, byte damage, or both), or noise.</summary>
    private static (string What, byte[] Bytes) SafeTensorsInput(Random r, byte[][] seeds)
    {
        byte[] seed = seeds[r.Next(seeds.Length)];
        int kind = r.Next(10);
        if (kind == 0)
        {
            // Noise behind a plausible header length, so that the JSON reader sees it.
            byte[] noise = Mutations.Noise(r, r.Next(2, 120));
            noise[0] = (byte)'{';
            return ("random header", SafeTensorsBytes(noise, Mutations.Noise(r, r.Next(0, 32))));
        }

        string what = "";
        byte[] bytes = seed;
        if (kind < 7)
        {
            (string name, Mutations.Mutation header) = Mutations.SafeTensorsHeader[r.Next(Mutations.SafeTensorsHeader.Length)];
            (what, bytes) = (name, header(r, bytes));
        }

        if (kind >= 5)
        {
            (string name, Mutations.Mutation mutation) = Mutations.Bytes[r.Next(Mutations.Bytes.Length)];
            (what, bytes) = (what.Length == 0 ? name : $"{what}, then {name}", mutation(r, bytes));
        }

        return (what, bytes);
    }

    /// <summary>Valid files: one written by Checkpoint.Save, one of every float dtype, one with metadata and odd names.</summary>
    private byte[][] SafeTensorsSeeds()
    {
        string saved = _dir.File("seed.safetensors");
        Checkpoint.Save(saved, Parameters(), metadata: new Dictionary<string, string> { ["epoch"] = "3" });
        string mixed =
            "{\"fc.weight\":{\"dtype\":\"F16\",\"shape\":[5,7],\"data_offsets\":[0,70]}," +
            "\"fc.bias\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[70,80]}," +
            "\"extra\":{\"dtype\":\"F64\",\"shape\":[2,1],\"data_offsets\":[80,96]}," +
            "\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[96,104]}," +
            "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[104,104]}," +
            "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[104,108]}}";
        string metadata =
            "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\\u00e9 \\\"quoted\\\"\"},\"w\\u00e9\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}";
        return [File.ReadAllBytes(saved), SafeTensorsBytes(mixed, Mutations.Noise(new Random(2), 108)), SafeTensorsBytes(metadata, [1, 2, 3])];
    }

    private static ParameterSet Parameters() =>
        TestParameters.Create(seed: 1, ("fc.weight", [5, 7]), ("fc.bias", [5]));

    private static byte[] SafeTensorsBytes(string header, byte[] data) => SafeTensorsBytes(Encoding.UTF8.GetBytes(header), data);

    private static byte[] SafeTensorsBytes(byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    // ---- Checks ------------------------------------------------------------------------------------------------------

    /// <summary>What an accepted file must be: every tensor's bytes are its shape's, in the data section, tiling it.</summary>
    private static void CheckConsistent(SafeTensorsFile file)
    {
        long dataLength = file.Length - file.DataStart;
        long covered = 0;
        foreach (SafeTensorInfo t in file.Tensors.OrderBy(t => t.Begin))
        {
            BigInteger bytes = t.Shape.Aggregate(BigInteger.One, (a, d) => a * d) * t.DType.Size();
            Assert.True(t.Shape.All(d => d >= 0) && bytes == t.End - t.Begin, $"tensor '{t.Name}' {t.ShapeText} {t.DType.Name()} spans [{t.Begin}, {t.End})");
            Assert.True(t.Begin == covered && t.End <= dataLength, $"tensor '{t.Name}' [{t.Begin}, {t.End}) after {covered} of {dataLength} bytes");
            covered = t.End;
        }

        Assert.Equal(dataLength, covered);
    }

    private static int[] Bits(ReadOnlySpan<float> values) => MemoryMarshal.Cast<float, int>(values).ToArray();

    private void Report(Fuzzer fuzzer, string reader)
    {
        output.WriteLine(fuzzer.Summary(reader));
        Assert.True(fuzzer.Crashes.Count == 0,
            $"{fuzzer.Summary(reader)}:{Environment.NewLine}{string.Join(Environment.NewLine + Environment.NewLine, fuzzer.Crashes.Take(5))}");
    }
}
