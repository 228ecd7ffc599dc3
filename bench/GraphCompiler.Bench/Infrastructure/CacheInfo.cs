using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// One level of the data-cache hierarchy as the processor describes it (CPUID). <paramref name="SharedBy"/>: logical
/// cores sharing it, 0 when the processor reports only its total (AMD's older leaf for L3).
/// </summary>
public sealed record CacheLevel(int Level, string Type, long Bytes, int Ways, int LineBytes, int SharedBy);

/// <summary>
/// The caches of the core this process runs on, from the processor's own description (CPUID leaf
/// 0x8000001D on AMD, leaf 4 on Intel: the same deterministic-cache-parameters format; when a virtual
/// machine leaves those empty, AMD's older leaves 0x80000005 and 0x80000006, which give the sizes). Virtual
/// machines often hide <c>/sys/devices/system/cpu/cpu0/cache</c>.
/// </summary>
public static class CacheInfo
{
    private static IReadOnlyList<CacheLevel>? _levels;

    public static IReadOnlyList<CacheLevel> Levels => _levels ??= Read();

    /// <summary>"L1d 48 KB, L2 1 MB, L3 32 MB (shared by 16)": for the result files.</summary>
    public static string Text =>
        Levels.Count == 0
            ? "not reported by the processor"
            : string.Join(", ", Levels.Where(c => c.Type != "instruction").Select(c =>
                $"L{c.Level}{(c.Type == "data" ? "d" : "")} {Size(c.Bytes)} (" + (c.Ways > 0 ? $"{c.Ways}-way, " : "") + $"{c.LineBytes} B lines" +
                (c.SharedBy > 1 ? $", shared by {c.SharedBy} logical cores" : c.SharedBy == 0 ? ", the whole processor's" : "") + ")"));

    /// <summary>The size of a level (data or unified), or null when unknown.</summary>
    public static long? Bytes(int level) =>
        Levels.FirstOrDefault(c => c.Level == level && c.Type != "instruction")?.Bytes;

    public static string Size(long bytes) =>
        bytes >= 1 << 20
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0.#} MB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes >> 10} KB");

    private static List<CacheLevel> Read()
    {
        var levels = new List<CacheLevel>();
        if (!X86Base.IsSupported)
        {
            return levels;
        }

        (int maxBasic, int vendorB, int vendorC, int vendorD) = X86Base.CpuId(0, 0);
        bool amd = vendorB == 0x68747541; // "Auth" of AuthenticAMD
        int leaf;
        if (amd)
        {
            (int maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
            leaf = unchecked((int)0x8000001D);
            if ((uint)maxExtended < 0x8000001D || (X86Base.CpuId(leaf, 0).Eax & 0x1F) == 0)
            {
                return (uint)maxExtended >= 0x80000006 ? AmdLegacy() : levels;
            }
        }
        else
        {
            leaf = 4;
            if (maxBasic < 4)
            {
                return levels;
            }
        }

        _ = (vendorC, vendorD);
        for (int sub = 0; sub < 16; sub++)
        {
            (int eax, int ebx, int ecx, _) = X86Base.CpuId(leaf, sub);
            int type = eax & 0x1F;
            if (type == 0)
            {
                break;
            }

            int level = (eax >> 5) & 0x7;
            int sharedBy = ((eax >> 14) & 0xFFF) + 1;
            int line = (ebx & 0xFFF) + 1;
            int partitions = ((ebx >> 12) & 0x3FF) + 1;
            int ways = ((ebx >> 22) & 0x3FF) + 1;
            long sets = (uint)ecx + 1L;
            string kind = type switch { 1 => "data", 2 => "instruction", _ => "unified" };
            levels.Add(new CacheLevel(level, kind, ways * partitions * line * sets, ways, line, sharedBy));
        }

        return levels;
    }

    /// <summary>AMD's leaves 0x80000005 (L1d: size in KB, ways, line) and 0x80000006 (L2 in KB, L3 in 512 KB units).</summary>
    private static List<CacheLevel> AmdLegacy()
    {
        var levels = new List<CacheLevel>();
        int l1 = X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx;
        (_, _, int l2, int l3) = X86Base.CpuId(unchecked((int)0x80000006), 0);
        if ((l1 >>> 24) > 0)
        {
            levels.Add(new CacheLevel(1, "data", (l1 >>> 24) * 1024L, (l1 >> 16) & 0xFF, l1 & 0xFF, 1));
        }

        if ((l2 >>> 16) > 0)
        {
            levels.Add(new CacheLevel(2, "unified", (l2 >>> 16) * 1024L, 0, l2 & 0xFF, 1));
        }

        if ((l3 >>> 18) > 0)
        {
            levels.Add(new CacheLevel(3, "unified", (l3 >>> 18) * 512L * 1024, 0, l3 & 0xFF, 0));
        }

        return levels;
    }
}
