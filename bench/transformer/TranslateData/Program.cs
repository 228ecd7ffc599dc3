using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GraphCompiler;

// Usage: TranslateData OUTDIR [--cache DIR] [--seed N] [--batch N]
// Fetches freedict-deu-eng if needed, extracts the pairs, splits them, and writes into OUTDIR:
//   train.tsv, heldout.tsv  german<TAB>english per line
//   order.json              the split figures and the first batches of epochs 0 and 1, for translate_torch.py --check-order
if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: TranslateData OUTDIR [--cache DIR] [--seed N] [--batch N]");
    return 2;
}

string output = args[0];
string? cache = null;
ulong seed = 1;
int batch = 32;
for (int i = 1; i < args.Length; i++)
{
    string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--cache": cache = value; break;
        case "--seed": seed = ulong.Parse(value, CultureInfo.InvariantCulture); break;
        case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }

    i++;
}

var clock = Stopwatch.StartNew();
DictdFiles files = FreedictData.EnsureDownloaded(cache);
DictdDictionary dictionary = files.Load();
Console.WriteLine($"read {files.Index} and {files.Dictionary} ({dictionary.BodyLength:N0} bytes uncompressed) in {clock.Elapsed.TotalSeconds:F1} s");
TranslationExtraction extraction = TranslationPairs.Extract(dictionary);
TranslationSplit split = TranslationPairs.Split(extraction.Pairs);
split.WriteTsv(output);
Console.WriteLine($"entries read {extraction.EntriesRead:N0}, parsed {extraction.Parsed:N0}, usable {extraction.Usable:N0}, " +
                  $"kept {extraction.Pairs.Count:N0} (one per German word): train {split.Train.Count:N0}, held-out {split.HeldOut.Count:N0}");
Console.WriteLine($"wrote {Path.Combine(output, TranslationSplit.TrainFileName)} and {Path.Combine(output, TranslationSplit.HeldOutFileName)} in {clock.Elapsed.TotalSeconds:F1} s");
foreach (TranslationPair pair in split.HeldOut.Take(8))
{
    Console.WriteLine($"  {pair.German} -> {pair.English}");
}

// The check file: what translate_torch.py --check-order recomputes from the TSV files on its own.
var batches = new TranslationBatches(split.Train, batch, seed);
var check = new Dictionary<string, object>
{
    ["split_seed"] = TranslationPairs.SplitSeed,
    ["pairs"] = extraction.Pairs.Count,
    ["train"] = split.Train.Count,
    ["heldout"] = split.HeldOut.Count,
    ["split_first_heldout"] = SplitMix64.Permutation(extraction.Pairs.Count, TranslationPairs.SplitSeed).Take(16).ToArray(),
    ["seed"] = seed,
    ["batch"] = batch,
    ["batches_per_epoch"] = batches.BatchesPerEpoch,
    ["epoch0_order_first"] = TranslationPairs.BatchOrder(split.Train.Count, 0, seed).Take(64).ToArray(),
    ["epoch1_order_first"] = TranslationPairs.BatchOrder(split.Train.Count, 1, seed).Take(64).ToArray(),
    ["step0_source"] = batches.Source.Slice(batches.Indices(0)[0] * TranslationPairs.MaxLength, TranslationPairs.MaxLength).ToArray(),
    ["last_step_of_epoch0_indices"] = batches.Indices(batches.BatchesPerEpoch - 1).ToArray(),
    ["first_step_of_epoch1_indices"] = batches.Indices(batches.BatchesPerEpoch).ToArray(),
};
File.WriteAllText(Path.Combine(output, "order.json"), JsonSerializer.Serialize(check, new JsonSerializerOptions { WriteIndented = true }));
return 0;
