using System.Globalization;
using System.Text;

namespace GraphCompiler.Tests.IO.Fuzzing;

/// <summary>What became of one input: rejected with an expected error, accepted, or a crash (with what was thrown).</summary>
public enum Outcome { Rejected, Accepted, Crashed }

/// <summary>
/// Feeds a reader deterministic random inputs (<see cref="Mutations"/> of valid files, and pure noise) and records
/// what happened to each: an exception of an allowed type is a rejection, anything else a crash. <see cref="Guarded"/>
/// runs the inputs on a worker thread and fails as a hang when one input does not finish within
/// <see cref="PerInputLimit"/>; the limit guards against endless loops and is no speed requirement.
/// </summary>
public sealed class Fuzzer(string path, int seed, params Type[] allowed)
{
    /// <summary>Generous: an input takes well under a millisecond; only a reader that loops or waits forever reaches it.</summary>
    public TimeSpan PerInputLimit { get; init; } = TimeSpan.FromSeconds(30);

    private readonly List<string> _crashes = [];
    private volatile string _current = "";
    private int _tried;

    public int Tried => Volatile.Read(ref _tried);

    public int Rejected { get; private set; }

    public int Accepted { get; private set; }

    public IReadOnlyList<string> Crashes => _crashes;

    /// <summary>The random source of the mutations: one seed, one sequence of inputs.</summary>
    public Random Random { get; } = new(seed);

    /// <summary>
    /// Runs <paramref name="inputs"/> (which calls <see cref="Run"/> for each input) on a worker thread, watching that
    /// every input finishes within <see cref="PerInputLimit"/>: watching the count of inputs rather than handing each
    /// input to a thread of its own keeps the guard cheap.
    /// </summary>
    public void Guarded(Action inputs)
    {
        Exception? failed = null;
        var worker = new Thread(() =>
        {
            try
            {
                inputs();
            }
            catch (Exception e)
            {
                failed = e;
            }
        }) { IsBackground = true }; // a hung worker must not keep the test process alive
        worker.Start();
        int seen = -1;
        while (!worker.Join(PerInputLimit))
        {
            if (Tried == seen)
            {
                throw new Xunit.Sdk.XunitException($"Input {seen} ({_current}) did not finish within {PerInputLimit.TotalSeconds} s (a hang).");
            }

            seen = Tried;
        }

        if (failed is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        }
    }

    /// <summary>
    /// Writes <paramref name="bytes"/> to the fuzzer's file and runs <paramref name="check"/> on it. The check reads the
    /// file and asserts whatever must hold for an accepted file, or after a rejection (no partial state).
    /// </summary>
    public Outcome Run(string what, byte[] bytes, Action<string> check)
    {
        _current = $"{what}, {Describe(bytes)}";
        Interlocked.Increment(ref _tried);
        File.WriteAllBytes(path, bytes);
        Exception? thrown = null;
        try
        {
            check(path);
        }
        catch (Exception e)
        {
            thrown = e;
        }

        if (thrown is null)
        {
            Accepted++;
            return Outcome.Accepted;
        }

        if (allowed.Any(t => t.IsInstanceOfType(thrown)) && thrown is not Xunit.Sdk.XunitException)
        {
            Rejected++;
            return Outcome.Rejected;
        }

        _crashes.Add($"Input {Tried} ({what}): {thrown.GetType().Name}: {thrown.Message}{Environment.NewLine}" +
            $"{thrown.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}{Environment.NewLine}{Describe(bytes)}");
        return Outcome.Crashed;
    }

    /// <summary>The counts, for the test output.</summary>
    public string Summary(string reader) => string.Create(CultureInfo.InvariantCulture,
        $"{reader}: {Tried} inputs tried (seed {seed}): {Rejected} rejected with {string.Join(" or ", allowed.Select(t => t.Name))}, " +
        $"{Accepted} accepted, {_crashes.Count} crashes");

    /// <summary>The input's length and first bytes, as text where printable.</summary>
    private static string Describe(byte[] bytes)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{bytes.Length} bytes: ");
        foreach (byte b in bytes.Take(160))
        {
            text.Append(b is >= 32 and < 127 ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return text.Append(bytes.Length > 160 ? "..." : "").ToString();
    }
}
