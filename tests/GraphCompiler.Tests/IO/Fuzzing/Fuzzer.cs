using System.Globalization;
using System.Text;

namespace GraphCompiler.Tests.IO.Fuzzing;

/// <summary>What became of one input: rejected with an expected error, accepted, or a crash (with what was thrown).</summary>
public enum Outcome { Rejected, Accepted, Crashed }

/// <summary>
/// Feeds a reader deterministic random inputs (<see cref="Mutations"/> of valid files, and pure noise) and records
/// what happened to each: an exception of an allowed type is a rejection, anything else a crash, and an input that
/// does not finish within <see cref="PerInputLimit"/> a hang. The check runs on a worker thread so that a hang
/// cannot stall the test run; the limit is a guard against endless loops, not a speed requirement.
/// </summary>
public sealed class Fuzzer(string path, int seed, params Type[] allowed)
{
    /// <summary>Generous: an input takes well under a millisecond; only a reader that loops or waits forever reaches it.</summary>
    public static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(30);

    private readonly List<string> _crashes = [];

    public int Tried { get; private set; }

    public int Rejected { get; private set; }

    public int Accepted { get; private set; }

    public IReadOnlyList<string> Crashes => _crashes;

    /// <summary>The random source of the mutations: one seed, one sequence of inputs.</summary>
    public Random Random { get; } = new(seed);

    /// <summary>
    /// Writes <paramref name="bytes"/> to the fuzzer's file and runs <paramref name="check"/> on it. The check reads the
    /// file and asserts whatever must hold for an accepted file, or after a rejection (no partial state).
    /// </summary>
    public Outcome Run(string what, byte[] bytes, Action<string> check)
    {
        Tried++;
        File.WriteAllBytes(path, bytes);
        Exception? thrown = null;
        var worker = Task.Run(() =>
        {
            try
            {
                check(path);
            }
            catch (Exception e)
            {
                thrown = e;
            }
        });

        if (!worker.Wait(PerInputLimit))
        {
            // The worker is stuck: a hang. Say so and stop; a later input would only queue behind it.
            throw new Xunit.Sdk.XunitException($"Input {Tried} ({what}) did not finish within {PerInputLimit.TotalSeconds} s (a hang). {Describe(bytes)}");
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
