using System.Diagnostics;
using System.Globalization;
using GraphCompiler;

namespace Translate;

/// <summary>
/// <c>--time</c>: the cost of a training step (forward, loss, backward, Adam), of a batch-1 forward and of one
/// decoding step with the cache, in process CPU time per call (minimum and median of 9 slices), so that other
/// work on the machine inflates it less than wall time.
/// </summary>
internal static class Timing
{
    private const int Length = TranslationPairs.MaxLength;

    public static void Report(Translator model, Adam optimizer, TranslationBatches batches, int batch)
    {
        var source = new int[batch * Length];
        var decoderInput = new int[batch * Length];
        var target = new int[batch * Length];
        var logProbs = new float[batch * Translator.OutputSize];
        var gradient = new float[logProbs.Length];
        long step = 0;
        model.Training = true;
        Print($"training step, batch {batch}", Measure(20, () =>
        {
            batches.CopyBatch(step++, source, decoderInput, target);
            model.Forward(source, decoderInput, logProbs);
            SequenceLoss.NegativeLogLikelihood(logProbs, target, gradient, CharVocabulary.Pad, out _);
            model.Backward(gradient);
            optimizer.Step(model.Gradients);
        }));

        model.Training = false;
        var one = new float[Translator.OutputSize];
        Print("inference, batch 1", Measure(200, () => model.Forward(source.AsSpan(0, Length), decoderInput.AsSpan(0, Length), one)));

        var token = new int[1];
        var scores = new float[CharVocabulary.Size];
        int position = Length;
        Print("decoding, one token (batch 1, with the cache)", Measure(200, () =>
        {
            if (position == Length)
            {
                model.BeginDecode(source.AsSpan(0, Length));
                position = 0;
            }

            token[0] = decoderInput[position];
            model.DecodeStep(position++, token, scores);
        }));
    }

    private static (double Min, double Median, long Allocated) Measure(int calls, Action action)
    {
        for (int i = 0; i < calls; i++)
        {
            action();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            action();
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var slices = new double[9];
        for (int s = 0; s < slices.Length; s++)
        {
            TimeSpan start = Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < calls; i++)
            {
                action();
            }

            slices[s] = (Process.GetCurrentProcess().TotalProcessorTime - start).TotalMilliseconds / calls;
        }

        Array.Sort(slices);
        return (slices[0], slices[slices.Length / 2], allocated / calls);
    }

    private static void Print(string what, (double Min, double Median, long Allocated) t) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-48} min {t.Min,8:F3} ms, median {t.Median,8:F3} ms, {t.Allocated} B allocated per call"));
}
