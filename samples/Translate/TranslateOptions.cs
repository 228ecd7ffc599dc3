using System.Globalization;

namespace Translate;

/// <summary>The command line of the Translate sample.</summary>
public sealed record TranslateOptions
{
    public int Steps { get; init; } = 3000;
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 1e-3f;
    public int Seed { get; init; } = 1;
    public int EvalEvery { get; init; } = 500;
    public int BeamWidth { get; init; } = 4;
    public string Checkpoint { get; init; } = Path.Combine(Path.GetTempPath(), "graphcompiler-translate.safetensors");
    public bool Resume { get; init; }
    public bool Quiet { get; init; }
    public bool Time { get; init; }
    public bool Help { get; init; }
    public string? DataDirectory { get; init; }
    public string? ExportDirectory { get; init; }
    public string? InitialWeights { get; init; }
    public IReadOnlyList<string> Words { get; init; } = [];

    public const string Usage = """
        Usage: dotnet run -c Release --project samples/Translate -- [options] [german words to translate...]
          --steps N          training steps (default 3000; 0 evaluates the checkpoint with --resume)
          --batch N          pairs per step (default 32)
          --lr X             Adam learning rate (default 0.001; betas 0.9, 0.98, eps 1e-9)
          --seed N           initialization, dropout and batch order seed (default 1)
          --eval-every N     held-out loss and checkpoint every N steps (default 500)
          --beam N           beam width for the words given (default 4; 1 is greedy)
          --checkpoint PATH  where checkpoints go (default: the temp folder)
          --resume           continue from the checkpoint
          --data DIR         where the dictionary is cached (default: the user's cache)
          --export-data DIR  also write train.tsv and heldout.tsv (for bench/transformer/translate_torch.py)
          --init-weights F   write the initial weights to F (safetensors, PyTorch names) before training
          --quiet            one line per evaluation instead of a progress bar
          --time             time a training step, a batch-1 forward and a decoding step, then exit
        """;

    public static TranslateOptions Parse(string[] args)
    {
        var o = new TranslateOptions();
        var words = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            int Int() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v : throw new FormatException($"{args[i - 1]}: '{args[i]}' is not a non-negative integer");
            switch (args[i])
            {
                case "--steps": o = o with { Steps = Int() }; break;
                case "--batch": o = o with { BatchSize = Math.Max(1, Int()) }; break;
                case "--lr": o = o with { LearningRate = float.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out float lr) && lr > 0 ? lr : throw new FormatException("--lr: a positive number") }; break;
                case "--seed": o = o with { Seed = Int() }; break;
                case "--eval-every": o = o with { EvalEvery = Math.Max(1, Int()) }; break;
                case "--beam": o = o with { BeamWidth = Math.Max(1, Int()) }; break;
                case "--checkpoint": o = o with { Checkpoint = Next() }; break;
                case "--resume": o = o with { Resume = true }; break;
                case "--quiet": o = o with { Quiet = true }; break;
                case "--time": o = o with { Time = true }; break;
                case "--data": o = o with { DataDirectory = Next() }; break;
                case "--export-data": o = o with { ExportDirectory = Next() }; break;
                case "--init-weights": o = o with { InitialWeights = Next() }; break;
                case "--help" or "-h": o = o with { Help = true }; break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal))
                    {
                        throw new FormatException($"unknown option {args[i]}");
                    }

                    words.Add(args[i]);
                    break;
            }
        }

        return o with { Words = words };
    }
}
