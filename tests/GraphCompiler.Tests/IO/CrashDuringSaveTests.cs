using System.Diagnostics;
using GraphCompiler.Tests.Training;
using Xunit;

namespace GraphCompiler.Tests.IO;

/// <summary>
/// A real process is killed in the middle of writing a checkpoint: the previous checkpoint must still load. The child
/// is this test assembly itself, started with <c>dotnet exec</c> and entered through a startup hook
/// (<see cref="global::StartupHook"/>), so no extra project or program is needed.
/// </summary>
public sealed class CrashDuringSaveTests : IDisposable
{
    internal const string PathVariable = "GRAPHCOMPILER_TESTS_CRASH_SAVE_PATH";
    private const int Floats = 2_000_000; // 8 MB: the child pauses after 1 MB of the second save
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Killing_the_writer_mid_save_keeps_the_previous_checkpoint()
    {
        string path = _dir.File("model.safetensors");
        string assembly = typeof(CrashDuringSaveTests).Assembly.Location;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
        start.Environment[PathVariable] = path;

        using Process child = Process.Start(start)!;
        try
        {
            Assert.Equal("saved", ReadLine(child));
            Assert.Equal("mid-write", ReadLine(child));
            child.Kill(entireProcessTree: true);
            Assert.True(child.WaitForExit(30_000));
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        // The killed save left its partial temporary file beside the target: proof it died mid-write.
        string temp = Assert.Single(Directory.GetFiles(_dir.Path, "model.safetensors.tmp-*"));
        Assert.InRange(new FileInfo(temp).Length, 1, new FileInfo(path).Length - 1);

        ParameterSet model = Model();
        Checkpoint.Load(path, model);
        Assert.All(model.Read("w").ToArray(), v => Assert.Equal(1f, v));
    }

    /// <summary>Runs in the child: one complete save of ones, then a save of twos that stops halfway forever.</summary>
    internal static void RunChild(string path)
    {
        ParameterSet model = Model();
        model.Values.Fill(1f);
        Checkpoint.Save(path, model);
        Console.Out.WriteLine("saved");
        Console.Out.Flush();
        model.Values.Fill(2f);
        Checkpoint.Save(path, model, null, null, s => new PausingStream(s, pauseAfter: 1 << 20));
    }

    private static ParameterSet Model() => TestParameters.Create(1, ("w", [Floats]));

    private static string ReadLine(Process child)
    {
        Task<string?> line = child.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(60)))
        {
            throw new TimeoutException("The child process did not report in time.");
        }

        return line.Result ?? "exited: " + child.StandardError.ReadToEnd();
    }

    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
    }

    /// <summary>Writes through until <c>pauseAfter</c> bytes, then reports and blocks until the process is killed.</summary>
    private sealed class PausingStream(Stream inner, long pauseAfter) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > pauseAfter)
            {
                inner.Write(buffer[..(int)(pauseAfter - _written)]);
                inner.Flush(); // the partial bytes reach the temporary file, as in a real crash mid-write
                Console.Out.WriteLine("mid-write");
                Console.Out.Flush();
                Thread.Sleep(Timeout.Infinite);
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
}
