using System.IO.Compression;
using System.Text;
using GraphCompiler.Tests.IO;
using Xunit;

namespace GraphCompiler.Tests.Data;

public sealed class TranslationPairsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // Shapes copied from freedict-deu-eng 2022.04.21 (Debian dict-freedict-deu-eng).
    private const string Vakzine =
        "Bakterienvakzine /baktˈeːrɪənvaktsˈiːnə/ <fem, n, sg>\n [med.] bacterial vaccine <n>, bacterin <n>\n" +
        "   Synonyms: {bakterieller Impfstoff}, {Bakterienimpfstoff}\n\n see: {Impfstoff}, {Vakzine}\n\n";

    private const string Vorsitzende =
        "Vorsitzende /fˈoːɾzˌɪtsəndə/ <fem, n, sg>\nchairman <n>chm.,  /tsˌeːhˌɑːˈɛm/ , chairwoman <n>chw.,  /tsˌeːhˌɑːvˈeː/ , chairperson <n>\n" +
        "         Note: used to remain noncommittal on gender, presider <n>\n" +
        "      \"Büro des Vorsitzenden\"  - chairperson's office\n   Synonyms: {Vorsitzender}, {Vorsitzer}\n\n";

    private const string Zuruf =
        "auf Zuruf von jdm. etw. tun /aʊf tsuːrˈuːf fɔn jˌɔtdˌeːˈɛm ˈɛtf tˈuːn/\ndo sth. on the say-so of sb. [coll.]\n" +
        " see: {jds. Zuruf}, {jds. Anschaffe}\n\n";

    private const string Kauzig =
        "kauzig /kˈaʊtsɪç/ <adj>\ndotty <adj> [Br.]  [coll.]\n   Synonym: {schrullig}\n\n see: {eine verrückte Idee}, {vertrotteln}\n\n";

    private const string Smiley =
        "Smiley /(en)smˈaɪli(de)/ (:-)) <masc, n, sg>\n [comp.] smiley <n>, smily <n>:-)\n   Synonym: {Grinsemännchen}\n\n";

    private const string Haus =
        "Haus /hˈaʊs/ <neut, n, sg>\nhouse <n>\n      \"ein Haus bauen\"  - build a house\n" +
        "      \"(allein) im Haus bleiben\"  - stay in the house (alone)\n see: {Häuser}, {frei Haus}\n\n";

    private const string Ganz =
        "aufs Ganze gehen /aʊfs ɡˈantsə ɡˈeːən/\ngo (the) whole hog, go all out\n";

    [Theory]
    [InlineData(Vakzine, "bakterienvakzine", "bacterial vaccine")]
    [InlineData(Vorsitzende, "vorsitzende", "chairman")]
    [InlineData(Zuruf, "auf zuruf von jdm. etw. tun", "do sth. on the say-so of sb.")]
    [InlineData(Kauzig, "kauzig", "dotty")]
    [InlineData(Smiley, "smiley", "smiley")]
    [InlineData(Haus, "haus", "house")]
    [InlineData(Ganz, "aufs ganze gehen", "go whole hog")]
    [InlineData("Auto /ˈaʊtoː/ <neut, n, sg>\n1. car <n>\n", "auto", "car")]
    [InlineData("Straße <fem>\n [Br.] STREET\n", "straße", "street")]
    public void Entries_give_the_headword_and_the_first_translation(string entry, string german, string english)
    {
        Assert.Equal(new TranslationPair(german, english), TranslationPairs.ParseEntry(entry));
    }

    [Theory]
    [InlineData("Haus /hˈaʊs/\n")]                          // no translation line
    [InlineData("Haus /hˈaʊs/")]                            // a single line
    [InlineData(" /hˈaʊs/ <n>\nhouse\n")]                  // no headword
    [InlineData("Haus /hˈaʊs/\n   Synonym: {Gebäude}\n")] // no translation, a synonym line
    [InlineData("Haus /hˈaʊs/\n [arch.] <n>\n")]           // a label, nothing else
    public void Entries_without_a_pair_give_null(string entry)
    {
        Assert.Null(TranslationPairs.ParseEntry(entry));
    }

    [Theory]
    [InlineData("haus", "house", true)]
    [InlineData("straße", "street", true)]
    [InlineData("café", "café", true)]
    [InlineData("jds. leibkoch", "sb.'s personal chef", true)]
    [InlineData("rot-grün", "red-green", true)]
    [InlineData("neunzehn zeichen ab", "nineteen chars abcd", true)] // 19 and 19
    [InlineData("zwanzig zeichen abcd", "twenty", false)]            // 20
    [InlineData("haus", "twenty characters ab", false)]
    [InlineData("", "empty", false)]
    [InlineData("haus", "", false)]
    [InlineData("Haus", "house", false)]                             // uppercase is not in the alphabet
    [InlineData("3d-drucker", "3d printer", false)]
    [InlineData("haus…", "domestic", false)]
    [InlineData("façade", "façade", false)]
    [InlineData("er/sie geht", "he/she goes", false)]
    public void Filters_keep_short_pairs_of_the_alphabet(string german, string english, bool usable)
    {
        Assert.Equal(usable, TranslationPairs.IsUsable(new TranslationPair(german, english)));
    }

    [Fact]
    public void Extraction_keeps_the_first_pair_of_each_german_word_and_counts_what_it_dropped()
    {
        string index = _dir.File("t.index"), body = _dir.File("t.dict.dz");
        (string Headword, string Entry)[] entries =
        [
            ("00databaseinfo", "00-database-info\nThis is the info.\n"),
            ("haus", Haus),
            ("haus", "Haus /hˈaʊs/ <neut, n, sg>\n [adm.] establishment <n>, institution <n>\n"),
            ("auf zuruf von jdm etw tun", Zuruf),           // German side too long
            ("smiley", Smiley),
            ("smileys", "Smileys /smˈiːlaɪs/ (:-)) <pl>\nsmileys, smilies\n"),
            ("3d-drucker", "3D-Drucker /dɾˈaɪdeː/ <masc, n, sg>\n3D printer <n>\n"), // digits
            ("kauzig", "kauzig /kˈaʊtsɪç/\n   Synonym: {schrullig}\n"),                // no translation line
        ];
        var bodyBytes = new MemoryStream();
        var indexText = new StringBuilder();
        foreach ((string headword, string entry) in entries)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(entry);
            indexText.Append($"{headword}\t{DictdIndex.EncodeNumber(bodyBytes.Length)}\t{DictdIndex.EncodeNumber(bytes.Length)}\n");
            bodyBytes.Write(bytes);
        }

        File.WriteAllText(index, indexText.ToString());
        using (var gzip = new GZipStream(File.Create(body), CompressionLevel.Fastest))
        {
            gzip.Write(bodyBytes.ToArray());
        }

        TranslationExtraction extraction = TranslationPairs.Extract(new DictdFiles(index, body).Load());
        Assert.Equal(7, extraction.EntriesRead);
        Assert.Equal(6, extraction.Parsed);
        Assert.Equal(4, extraction.Usable);
        Assert.Equal(
            [new("haus", "house"), new("smiley", "smiley"), new("smileys", "smileys")],
            extraction.Pairs);
    }

    private static List<TranslationPair> Numbered(int count) =>
        Enumerable.Range(0, count).Select(i => new TranslationPair($"wort {Letters(i)}", $"word {Letters(i)}")).ToList();

    private static string Letters(int i) => string.Concat(i.ToString().Select(d => (char)('a' + d - '0')));

    [Fact]
    public void The_split_holds_out_five_percent_at_most_2000_and_is_deterministic()
    {
        List<TranslationPair> pairs = Numbered(1000);
        TranslationSplit split = TranslationPairs.Split(pairs);
        Assert.Equal(50, split.HeldOut.Count);
        Assert.Equal(950, split.Train.Count);
        Assert.Equal(pairs.Order(Comparer<TranslationPair>.Create((a, b) => string.CompareOrdinal(a.German, b.German))),
                     split.Train.Concat(split.HeldOut).Order(Comparer<TranslationPair>.Create((a, b) => string.CompareOrdinal(a.German, b.German))));
        Assert.Equal(split.HeldOut, TranslationPairs.Split(pairs).HeldOut);
        Assert.NotEqual(split.HeldOut, TranslationPairs.Split(pairs, seed: 7).HeldOut);
        Assert.Equal(split.HeldOut.Count, split.HeldOut.Distinct().Count());

        // Each part keeps the input order.
        Assert.Equal(split.HeldOut.OrderBy(p => pairs.IndexOf(p)), split.HeldOut);

        Assert.Equal(2000, TranslationPairs.Split(Numbered(50_000)).HeldOut.Count);
        Assert.Empty(TranslationPairs.Split(Numbered(19)).HeldOut);
    }

    [Fact]
    public void The_split_and_batch_order_match_the_python_mirror()
    {
        // The same figures are asserted by bench/transformer/translate_torch.py --self-test.
        var rng = new SplitMix64(1234567); // SplitMix64's published test vector
        Assert.Equal([6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821],
                     Enumerable.Range(0, 5).Select(_ => rng.Next()));
        Assert.Equal([0, 9, 5, 8, 6, 4, 7, 2, 1, 3], SplitMix64.Permutation(10, 42));
        Assert.Equal([4, 2, 1, 3, 7, 9, 5, 0, 6, 8], TranslationPairs.BatchOrder(10, 0, 1));
        Assert.Equal([8, 3, 1, 9, 4, 5, 7, 2, 0, 6], TranslationPairs.BatchOrder(10, 1, 1));
        Assert.Equal([9, 5, 3, 7, 4, 8, 1, 0, 2, 6], TranslationPairs.BatchOrder(10, 0, 2));

        List<TranslationPair> pairs = Numbered(100);
        Assert.Equal([11, 34, 59, 60, 90], TranslationPairs.Split(pairs).HeldOut.Select(p => pairs.IndexOf(p)));
    }

    [Fact]
    public void Batches_follow_the_epoch_order_and_skip_the_incomplete_last_batch()
    {
        List<TranslationPair> pairs = Numbered(10);
        var batches = new TranslationBatches(pairs, batchSize: 3, seed: 1);
        Assert.Equal(3, batches.BatchesPerEpoch);
        Assert.Equal([4, 2, 1], batches.Indices(0).ToArray());
        Assert.Equal([5, 0, 6], batches.Indices(2).ToArray()); // 8 is left out of epoch 0
        Assert.Equal([8, 3, 1], batches.Indices(3).ToArray()); // epoch 1 starts afresh
        Assert.Equal([4, 2, 1], batches.Indices(0).ToArray()); // back to epoch 0: the same again

        int[] source = new int[3 * 20], input = new int[3 * 20], target = new int[3 * 20];
        batches.CopyBatch(3, source, input, target);
        Assert.Equal("wort i", CharVocabulary.Decode(source.AsSpan(0, 20)));
        Assert.Equal("word d", CharVocabulary.Decode(target.AsSpan(20, 20)));
        Assert.Equal("word b", CharVocabulary.Decode(input.AsSpan(40, 20)));
    }

    [Fact]
    public void Every_epoch_is_a_permutation_and_epochs_differ()
    {
        int[] first = TranslationPairs.BatchOrder(1000, 0, 1);
        int[] second = TranslationPairs.BatchOrder(1000, 1, 1);
        Assert.Equal(Enumerable.Range(0, 1000), first.Order());
        Assert.Equal(Enumerable.Range(0, 1000), second.Order());
        Assert.NotEqual(first, second);
        Assert.Equal(first, TranslationPairs.BatchOrder(1000, 0, 1));
    }

    [Fact]
    public void Encoding_pads_to_twenty_with_eos_and_bos_in_place()
    {
        int[] source = new int[20], input = new int[20], target = new int[20];
        TranslationPairs.Encode(new TranslationPair("straße", "street"), source, input, target);

        // s=4+5+18, t, r, a, ß=4+34, e; then EOS and PAD.
        Assert.Equal([27, 28, 26, 9, 38, 13, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], source);
        Assert.Equal([1, 27, 28, 26, 13, 13, 28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], input);
        Assert.Equal([27, 28, 26, 13, 13, 28, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], target);

        TranslationPairs.Encode(new TranslationPair("neunzehn zeichen ab", "it's a-b, c.d éäöüß"), source, input, target);
        Assert.Equal(CharVocabulary.Eos, source[19]);
        Assert.Equal(CharVocabulary.Eos, target[19]);
        Assert.Equal("it's a-b, c.d éäöüß", CharVocabulary.Decode(target));
        Assert.Equal("it's a-b, c.d éäöüß", CharVocabulary.Decode(input));
        Assert.Equal("neunzehn zeichen ab", CharVocabulary.Decode(source));

        Assert.Throws<ArgumentException>(() => TranslationPairs.Encode(new TranslationPair("zwanzig zeichen abcd", "x"), source, input, target));
    }

    [Fact]
    public void The_vocabulary_is_fixed_and_fits_its_size()
    {
        Assert.Equal(CharVocabulary.CharacterCount, CharVocabulary.Characters.Length);
        Assert.Equal(CharVocabulary.Characters.Length, CharVocabulary.Characters.Distinct().Count());
        Assert.Equal(48, CharVocabulary.Size);
        Assert.True(CharVocabulary.FirstCharacter + CharVocabulary.CharacterCount <= CharVocabulary.Size);
        Assert.Equal(4, CharVocabulary.Encode(' '));
        Assert.Equal(9, CharVocabulary.Encode('a'));
        Assert.Equal(34, CharVocabulary.Encode('z'));
        Assert.Equal(39, CharVocabulary.Encode('é'));
        Assert.Equal(CharVocabulary.Unk, CharVocabulary.Encode('Q'));
        Assert.Equal("a?b?", CharVocabulary.Decode([CharVocabulary.Bos, 9, CharVocabulary.Unk, 10, 45, CharVocabulary.Eos, 9])); // 45 is unused
        Assert.Equal("ab", CharVocabulary.Decode([9, 10, CharVocabulary.Pad, 11]));
    }

    [Fact]
    public void Tsv_files_round_trip_and_reject_damaged_lines()
    {
        TranslationSplit split = TranslationPairs.Split(Numbered(60));
        split.WriteTsv(_dir.Path);
        TranslationSplit read = TranslationSplit.ReadTsv(_dir.Path);
        Assert.Equal(split.Train, read.Train);
        Assert.Equal(split.HeldOut, read.HeldOut);
        Assert.Equal("wort a\tword a\n", File.ReadAllText(_dir.File("train.tsv"))[..14]);

        string bad = _dir.File("bad.tsv");
        File.WriteAllText(bad, "haus\thouse\nkatze cat\n");
        var e = Assert.Throws<InvalidDataException>(() => TranslationPairs.ReadTsv(bad));
        Assert.Contains("line 2", e.Message);
        Assert.Contains("bad.tsv", e.Message);

        File.WriteAllText(bad, "haus\thouse\nHund\tdog\n");
        e = Assert.Throws<InvalidDataException>(() => TranslationPairs.ReadTsv(bad));
        Assert.Contains("line 2", e.Message);
    }
}
