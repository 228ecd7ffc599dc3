using System.IO.Compression;
using System.Text;
using GraphCompiler.Tests.IO;
using Xunit;

namespace GraphCompiler.Tests.Data;

public sealed class DictdTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("A", 0)]
    [InlineData("/", 63)]
    [InlineData("B0", 1 * 64 + 52)]      // from the real index: "abblitzend  DWHDT  B0"
    [InlineData("BA", 64)]
    [InlineData("DWHDT", 3L * 64 * 64 * 64 * 64 + 22L * 64 * 64 * 64 + 7 * 64 * 64 + 3 * 64 + 19)]
    [InlineData("+/", 62 * 64 + 63)]
    [InlineData("AAAB", 1)]              // leading zero digits
    public void Base64_numbers_are_most_significant_digit_first(string digits, long value)
    {
        Assert.Equal(value, DictdIndex.DecodeNumber(digits));
        Assert.Equal(digits.TrimStart('A').Length == 0 ? "A" : digits.TrimStart('A'), DictdIndex.EncodeNumber(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("AB=")]
    [InlineData("A B")]
    [InlineData("BBBBBBBBBBB")] // 11 digits: more than any real file
    public void Bad_base64_numbers_are_rejected(string digits)
    {
        var e = Assert.Throws<FormatException>(() => DictdIndex.DecodeNumber(digits));
        Assert.Contains("dictd base64", e.Message);
    }

    [Fact]
    public void Index_lines_give_headword_offset_length_and_line()
    {
        const string text = "\tGHAt\tB0\nabblocken\tD2fU\tBg\n\nhaus\tvYRe\tEY\toriginal Haus\n";
        IReadOnlyList<DictdIndexEntry> entries = DictdIndex.Parse(new StringReader(text), "test.index");
        Assert.Equal(
            [
                new DictdIndexEntry("", 6 * 64 * 64 * 64 + 7 * 64 * 64 + 0 * 64 + 45, 116, 1),
                new DictdIndexEntry("abblocken", 3 * 64 * 64 * 64 + 54 * 64 * 64 + 31 * 64 + 20, 1 * 64 + 32, 2),
                new DictdIndexEntry("haus", 47 * 64 * 64 * 64 + 24 * 64 * 64 + 17 * 64 + 30, 4 * 64 + 24, 4),
            ],
            entries);
    }

    [Theory]
    [InlineData("word\tAB\n", "line 1", "found 2")]
    [InlineData("ok\tA\tB\nword\tA*\tB\n", "line 2", "bad offset")]
    [InlineData("word\tA\t\n", "line 1", "bad length")]
    [InlineData("a\tA\tB\tc\td\n", "line 1", "found 5")]
    public void Malformed_index_lines_name_the_file_and_line(string text, string line, string what)
    {
        var e = Assert.Throws<InvalidDataException>(() => DictdIndex.Parse(new StringReader(text), "broken.index"));
        Assert.Contains("'broken.index'", e.Message);
        Assert.Contains(line, e.Message);
        Assert.Contains(what, e.Message);
    }

    /// <summary>Writes a body and an index pointing at each entry; the body gzip-compressed when the name ends in .dz.</summary>
    private (string Index, string Body) WriteDictionary(string bodyName, params (string Headword, string Entry)[] entries)
    {
        var body = new MemoryStream();
        var index = new StringBuilder();
        foreach ((string headword, string entry) in entries)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(entry);
            index.Append(headword).Append('\t').Append(DictdIndex.EncodeNumber(body.Length)).Append('\t')
                 .Append(DictdIndex.EncodeNumber(bytes.Length)).Append('\n');
            body.Write(bytes);
        }

        string indexPath = _dir.File("test.index");
        string bodyPath = _dir.File(bodyName);
        File.WriteAllText(indexPath, index.ToString(), new UTF8Encoding(false));
        if (bodyName.EndsWith(".dz", StringComparison.Ordinal))
        {
            using var gzip = new GZipStream(File.Create(bodyPath), CompressionLevel.Optimal);
            gzip.Write(body.ToArray());
        }
        else
        {
            File.WriteAllBytes(bodyPath, body.ToArray());
        }

        return (indexPath, bodyPath);
    }

    [Theory]
    [InlineData("test.dict.dz")]
    [InlineData("test.dict")]
    public void A_small_dictionary_reads_back_its_entries(string bodyName)
    {
        (string index, string body) = WriteDictionary(bodyName,
            ("hund", "Hund /hˈʊnt/ <masc, n, sg>\n [zool.] dog <n>, dawg <n>\n"),
            ("kater", "Kater /kˈɑːtɜ/ <masc, n, sg>\nhangover <n>\n"),
            ("straße", "Straße /ʃtɾˈɑːsə/ <fem, n, sg>\nstreet <n>\n"));

        DictdDictionary dictionary = DictdDictionary.Load(index, body);
        Assert.Equal(["hund", "kater", "straße"], dictionary.Entries.Select(e => e.Headword));
        Assert.Equal("Kater /kˈɑːtɜ/ <masc, n, sg>\nhangover <n>\n", dictionary.ReadEntry(dictionary.Entries[1]));
        Assert.Equal("Straße /ʃtɾˈɑːsə/ <fem, n, sg>\nstreet <n>\n", dictionary.ReadEntry(dictionary.Entries[2]));
        Assert.Equal(Encoding.UTF8.GetByteCount(string.Concat(
            "Hund /hˈʊnt/ <masc, n, sg>\n [zool.] dog <n>, dawg <n>\n", "Kater /kˈɑːtɜ/ <masc, n, sg>\nhangover <n>\n",
            "Straße /ʃtɾˈɑːsə/ <fem, n, sg>\nstreet <n>\n")), dictionary.BodyLength);
    }

    [Fact]
    public void An_entry_past_the_end_of_the_body_is_reported_at_load()
    {
        (string index, string body) = WriteDictionary("test.dict.dz", ("hund", "Hund\ndog\n"), ("kater", "Kater\ntomcat\n"));
        File.AppendAllText(index, "katze\tB\tZ\n"); // offset 1, length 25: past the 20-byte body

        var e = Assert.Throws<InvalidDataException>(() => DictdDictionary.Load(index, body));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("'katze'", e.Message);
        Assert.Contains("past the end", e.Message);
    }

    [Fact]
    public void A_truncated_compressed_body_gives_a_clear_exception()
    {
        var entries = Enumerable.Range(0, 200).Select(i => ($"wort{i}", $"Wort{i} /vˈɔɾt/\nword number {i} <n>\n")).ToArray();
        (string index, string body) = WriteDictionary("test.dict.dz", entries);
        byte[] bytes = File.ReadAllBytes(body);
        File.WriteAllBytes(body, bytes[..(bytes.Length / 2)]);

        // Either the gzip reader notices the truncation, or the index points past the shorter body: never a crash.
        var e = Assert.Throws<InvalidDataException>(() => DictdDictionary.Load(index, body));
        Assert.Contains("test.dict.dz", e.Message);
    }

    [Fact]
    public void A_corrupt_compressed_body_gives_a_clear_exception()
    {
        (string index, string body) = WriteDictionary("test.dict.dz", ("hund", "Hund /hˈʊnt/\ndog <n>\n"));
        byte[] bytes = File.ReadAllBytes(body);
        for (int i = 10; i < bytes.Length - 8; i++)
        {
            bytes[i] = 0xff; // the deflate data destroyed, the gzip header intact
        }

        File.WriteAllBytes(body, bytes);
        var e = Assert.Throws<InvalidDataException>(() => DictdDictionary.Load(index, body));
        Assert.Contains("test.dict.dz", e.Message);
    }
}
