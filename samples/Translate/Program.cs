using System.Diagnostics;
using System.Globalization;
using GraphCompiler;
using Spectre.Console;

namespace Translate;

/// <summary>
/// Trains the seed's Transformer to translate German words and phrases into English, character by character,
/// on the pairs of Debian's freedict-deu-eng dictionary (fetched on first use), then reports the held-out loss,
/// exact-match accuracy and character error rate, and translates the words given on the command line.
/// </summary>
public static class Program
{
    private const int Length = TranslationPairs.MaxLength;
    private const int Vocabulary = CharVocabulary.Size;

    public static int Main(string[] args)
    {
        TranslateOptions options;
        try
        {
            options = TranslateOptions.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(TranslateOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(TranslateOptions.Usage);
            return 0;
        }

        try
        {
            return Run(options);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static int Run(TranslateOptions options)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine("Translate: the seed's Transformer (d_model 64, 4 heads, 2 + 2 layers, feed-forward 256), German -> English characters");
        DictdFiles files = FreedictData.EnsureDownloaded(options.DataDirectory);
        TranslationExtraction extraction = TranslationPairs.Extract(DictdDictionary.Load(files.Index, files.Dictionary));
        TranslationSplit split = TranslationPairs.Split(extraction.Pairs);
        Console.WriteLine(string.Create(inv, $"freedict-deu-eng: {extraction.EntriesRead:N0} entries, {extraction.Pairs.Count:N0} usable pairs; {split.Train.Count:N0} to train on, {split.HeldOut.Count:N0} held out"));
        if (options.ExportDirectory is { } export)
        {
            split.WriteTsv(export);
            Console.WriteLine($"Wrote {TranslationSplit.TrainFileName} and {TranslationSplit.HeldOutFileName} to {export}");
        }

        int evalBatch = 64;
        var model = new Translator(Math.Max(options.BatchSize, evalBatch), options.Seed);
        Console.WriteLine(string.Create(inv, $"{model.Parameters.Layout.Sum(p => p.Length):N0} parameters; batch {options.BatchSize}, {options.Steps:N0} steps, Adam lr {options.LearningRate} (betas 0.9, 0.98, eps 1e-9), dropout 0.1"));
        var optimizer = new Adam(model.Parameters, options.LearningRate, 0.9f, 0.98f, 1e-9f);
        long startStep = 0;
        if (options.Resume && File.Exists(options.Checkpoint))
        {
            IReadOnlyDictionary<string, string> meta = Checkpoint.Load(options.Checkpoint, model.Parameters, optimizer);
            startStep = meta.TryGetValue("step", out string? s) ? long.Parse(s, inv) : 0;
            Console.WriteLine($"Resumed from {options.Checkpoint} at step {startStep}");
        }

        if (options.InitialWeights is { } initial)
        {
            Checkpoint.Save(initial, model.Parameters);
            Console.WriteLine($"Initial weights written to {initial} (for the PyTorch reference: --init)");
        }

        var batches = new TranslationBatches(split.Train, options.BatchSize, (ulong)options.Seed);
        if (options.Time)
        {
            Timing.Report(model, optimizer, batches, options.BatchSize);
            return 0;
        }

        var heldOut = new TranslationBatches(split.HeldOut, 1, (ulong)options.Seed);
        if (options.Steps > startStep)
        {
            Train(model, optimizer, batches, heldOut, options, startStep);
        }

        model.Training = false;
        double loss = HeldOutLoss(model, heldOut, evalBatch);
        var decoding = new SequenceDecoding(model, CharVocabulary.Bos, CharVocabulary.Eos);
        (double exact, double cer, List<(string German, string English, string Predicted)> examples) = Evaluate(model, decoding, split.HeldOut, evalBatch);
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"held-out loss: {loss:F4}"));
        Console.WriteLine(string.Create(inv, $"held-out exact match: {exact:F4}, character error rate: {cer:F4} (greedy decoding, {split.HeldOut.Count:N0} pairs)"));
        Console.WriteLine("Examples (German -> reference | model):");
        foreach ((string german, string english, string predicted) in examples.Take(12))
        {
            Console.WriteLine($"  {german,-20} -> {english,-20} | {predicted}");
        }

        foreach (string word in options.Words)
        {
            Console.WriteLine($"{word} -> {Translate(model, decoding, word, options.BeamWidth)}");
        }

        return 0;
    }

    private static void Train(Translator model, Adam optimizer, TranslationBatches batches, TranslationBatches heldOut, TranslateOptions options, long startStep)
    {
        var inv = CultureInfo.InvariantCulture;
        int batch = options.BatchSize;
        var source = new int[batch * Length];
        var decoderInput = new int[batch * Length];
        var target = new int[batch * Length];
        var logProbs = new float[batch * Length * Vocabulary];
        var gradient = new float[logProbs.Length];
        model.Training = true;
        model.DropoutSeed = (ulong)options.Seed;
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        int lossCount = 0;
        long allocatedBefore = 0;

        void Step(long step)
        {
            batches.CopyBatch(step, source, decoderInput, target);
            model.Forward(source, decoderInput, logProbs);
            lossSum += SequenceLoss.NegativeLogLikelihood(logProbs, target, gradient, CharVocabulary.Pad, out _);
            lossCount++;
            model.Backward(gradient);
            optimizer.Step(model.Gradients);
        }

        string Evaluate(long step)
        {
            model.Training = false;
            double held = HeldOutLoss(model, heldOut, 64);
            model.Training = true;
            Checkpoint.Save(options.Checkpoint, model.Parameters, optimizer, new Dictionary<string, string> { ["step"] = step.ToString(inv) });
            string line = string.Create(inv, $"step {step,6:N0}: train loss {lossSum / Math.Max(lossCount, 1):F4}, held-out loss {held:F4}, {clock.Elapsed.TotalSeconds:F0} s");
            lossSum = 0;
            lossCount = 0;
            return line;
        }

        if (options.Quiet || Console.IsOutputRedirected)
        {
            for (long step = startStep; step < options.Steps; step++)
            {
                if (step == startStep + 3)
                {
                    allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                }

                Step(step);
                if ((step + 1) % options.EvalEvery == 0 || step + 1 == options.Steps)
                {
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                    Console.WriteLine(Evaluate(step + 1) + string.Create(inv, $", {(step + 1 - startStep) / clock.Elapsed.TotalSeconds:F1} steps/s"));
                    allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                }
            }

            return;
        }

        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("training", maxValue: options.Steps);
                task.Value = startStep;
                for (long step = startStep; step < options.Steps; step++)
                {
                    Step(step);
                    task.Increment(1);
                    if ((step + 1) % 50 == 0)
                    {
                        task.Description = string.Create(inv, $"step {step + 1:N0}, loss {lossSum / Math.Max(lossCount, 1):F3}");
                    }

                    if ((step + 1) % options.EvalEvery == 0 || step + 1 == options.Steps)
                    {
                        AnsiConsole.WriteLine(Evaluate(step + 1));
                    }
                }
            });
    }

    /// <summary>Mean NLL per target character over the held-out pairs, dropout off (teacher forcing).</summary>
    private static double HeldOutLoss(Translator model, TranslationBatches heldOut, int batch)
    {
        var source = new int[batch * Length];
        var decoderInput = new int[batch * Length];
        var target = new int[batch * Length];
        var logProbs = new float[batch * Length * Vocabulary];
        var gradient = new float[logProbs.Length];
        double total = 0;
        long counted = 0;
        for (int start = 0; start < heldOut.Count; start += batch)
        {
            int n = Math.Min(batch, heldOut.Count - start);
            for (int i = 0; i < n; i++)
            {
                heldOut.Source.Slice((start + i) * Length, Length).CopyTo(source.AsSpan(i * Length));
                heldOut.DecoderInput.Slice((start + i) * Length, Length).CopyTo(decoderInput.AsSpan(i * Length));
                heldOut.DecoderTarget.Slice((start + i) * Length, Length).CopyTo(target.AsSpan(i * Length));
            }

            Span<float> y = logProbs.AsSpan(0, n * Length * Vocabulary);
            model.Forward(source.AsSpan(0, n * Length), decoderInput.AsSpan(0, n * Length), y);
            float mean = SequenceLoss.NegativeLogLikelihood(y, target.AsSpan(0, n * Length), gradient.AsSpan(0, y.Length), CharVocabulary.Pad, out int c);
            total += (double)mean * c;
            counted += c;
        }

        return total / Math.Max(counted, 1);
    }

    /// <summary>Greedy decoding of every held-out German word: exact-match accuracy and character error rate.</summary>
    private static (double Exact, double Cer, List<(string, string, string)> Examples) Evaluate(Translator model, SequenceDecoding decoding, IReadOnlyList<TranslationPair> pairs, int batch)
    {
        var predictions = new List<string>(pairs.Count);
        var sources = new int[batch * Length];
        var output = new int[batch * Length];
        var lengths = new int[batch];
        for (int start = 0; start < pairs.Count; start += batch)
        {
            int n = Math.Min(batch, pairs.Count - start);
            for (int i = 0; i < n; i++)
            {
                TranslationPairs.EncodeSource(pairs[start + i].German, sources.AsSpan(i * Length, Length));
            }

            decoding.Greedy(sources.AsSpan(0, n * Length), output.AsSpan(0, n * Length), lengths.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                predictions.Add(CharVocabulary.Decode(output.AsSpan(i * Length, lengths[i])));
            }
        }

        var references = pairs.Select(p => p.English).ToList();
        var examples = pairs.Select((p, i) => (p.German, p.English, predictions[i])).ToList();
        return (TranslationMetrics.ExactMatch(predictions, references), TranslationMetrics.CharacterErrorRate(predictions, references), examples);
    }

    private static string Translate(Translator model, SequenceDecoding decoding, string german, int beamWidth)
    {
        string text = german.ToLowerInvariant();
        if (text.Length > TranslationPairs.MaxCharacters || !CharVocabulary.ContainsAll(text))
        {
            return $"(cannot translate: at most {TranslationPairs.MaxCharacters} characters of \"{CharVocabulary.Characters}\")";
        }

        var source = new int[Length];
        TranslationPairs.EncodeSource(text, source);
        var output = new int[Length];
        if (beamWidth > 1)
        {
            int length = decoding.BeamSearch(source, beamWidth, output, out _);
            return CharVocabulary.Decode(output.AsSpan(0, length));
        }

        var lengths = new int[1];
        decoding.Greedy(source, output, lengths);
        return CharVocabulary.Decode(output.AsSpan(0, lengths[0]));
    }
}
