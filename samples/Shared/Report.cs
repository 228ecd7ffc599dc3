using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Samples.Shared;

/// <summary>
/// All console output. A terminal gets a live progress bar and colors; redirected output (a file, a pipe, CI)
/// gets plain lines with no escape sequences: a line per quarter of an epoch instead of the bar.
/// </summary>
public sealed class Report
{
    private static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public Report(bool quiet)
    {
        Quiet = quiet;
        Capabilities capabilities = AnsiConsole.Profile.Capabilities;
        Live = !quiet && capabilities.Interactive && capabilities.Ansi && !Console.IsOutputRedirected;
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 120)
        {
            AnsiConsole.Profile.Width = 120; // no terminal to fit: keep tables from wrapping at the default 80 columns
        }
    }

    /// <summary>No summary, progress or confusion matrix.</summary>
    public bool Quiet { get; }

    /// <summary>A terminal that shows a live progress bar.</summary>
    public bool Live { get; }

    /// <summary>A plain line, printed as is (no markup).</summary>
    public void Line(string text = "") => AnsiConsole.Profile.Out.Writer.WriteLine(text);

    /// <summary>A line with Spectre markup; colors only reach a terminal.</summary>
    public void Markup(string markup) => AnsiConsole.MarkupLine(markup);

    public void Error(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"error: {message}");
    }

    /// <summary>Runs one epoch of <paramref name="trainer"/> behind a progress display.</summary>
    public EpochStats TrainEpoch(ITrainer trainer, int epoch, int epochs)
    {
        int steps = trainer.StepsPerEpoch;
        string title = $"epoch {epoch + 1}/{epochs}";
        if (Quiet)
        {
            return trainer.RunEpoch(epoch, NoProgress.Instance, reportEvery: steps);
        }

        if (!Live)
        {
            return trainer.RunEpoch(epoch, new PlainProgress(this, title, steps), reportEvery: Math.Max(1, (steps + 3) / 4));
        }

        EpochStats result = default;
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new EtaColumn(),
                new SpinnerColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Describe(title, default), maxValue: steps);
                result = trainer.RunEpoch(epoch, new LiveProgress(task, title), reportEvery: 8);
                task.Value = steps;
                task.StopTask();
            });
        return result;
    }

    /// <summary>The line that stays once an epoch is over.</summary>
    public void Epoch(in EpochStats stats, int epochs, double testAccuracy)
    {
        string allocation = stats.MeasuredSteps == 0
            ? ""
            : $", {stats.AllocatedBytes:N0} B allocated in {stats.MeasuredSteps:N0} steps";
        Line(
            $"epoch {stats.Epoch + 1}/{epochs}: loss {stats.MeanLoss:F4}, train accuracy {stats.Accuracy:F4}, " +
            $"test accuracy {testAccuracy:F4}, {stats.Elapsed.TotalSeconds:F1} s ({stats.SamplesPerSecond:N0} images/s){allocation}");
    }

    /// <summary>Rows: true class; columns: predicted class; the diagonal counts the correct predictions.</summary>
    public void ConfusionMatrix(int[,] matrix, DatasetKind dataset)
    {
        int classes = matrix.GetLength(0);
        var table = new Table()
            .Border(Live ? TableBorder.Rounded : TableBorder.Ascii)
            .Title("confusion matrix (rows: true class, columns: predicted class)");
        table.AddColumn(new TableColumn("true"));
        for (int c = 0; c < classes; c++)
        {
            table.AddColumn(new TableColumn(c.ToString(CultureInfo.InvariantCulture)).RightAligned());
        }

        table.AddColumn(new TableColumn("recall").RightAligned());
        for (int r = 0; r < classes; r++)
        {
            var cells = new List<string> { Spectre.Console.Markup.Escape(ClassName(r, dataset)) };
            int total = 0;
            for (int c = 0; c < classes; c++)
            {
                int count = matrix[r, c];
                total += count;
                string text = count.ToString(CultureInfo.InvariantCulture);
                cells.Add(r == c ? $"[green]{text}[/]" : count == 0 ? $"[grey]{text}[/]" : $"[yellow]{text}[/]");
            }

            double recall = total == 0 ? 0 : (double)matrix[r, r] / total;
            cells.Add(recall.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }

        AnsiConsole.Write(table);
    }

    public static string ClassName(int label, DatasetKind dataset) =>
        dataset == DatasetKind.Fashion ? $"{label} {FashionClasses[label]}" : label.ToString(CultureInfo.InvariantCulture);

    private static string Describe(string title, in EpochStats stats) =>
        stats.Samples == 0
            ? $"{title}  starting"
            : $"{title}  loss {stats.MeanLoss:F4}  acc {stats.Accuracy:F4}  {stats.SamplesPerSecond,7:N0} img/s";

    /// <summary>"ETA m:ss" from Spectre's own speed estimate.</summary>
    private sealed class EtaColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            TimeSpan? remaining = task.RemainingTime;
            string text = remaining is { } r && !task.IsFinished
                ? $"ETA {(int)r.TotalMinutes}:{r.Seconds:00}"
                : "ETA -:--";
            return new Text(text, new Style(Color.Blue));
        }

        public override int? GetColumnWidth(RenderOptions options) => 9;
    }

    private sealed class LiveProgress(ProgressTask task, string title) : IEpochProgress
    {
        public void Update(int step, in EpochStats sofar)
        {
            task.Description = Describe(title, sofar);
            task.Value = step;
        }
    }

    private sealed class PlainProgress(Report report, string title, int steps) : IEpochProgress
    {
        public void Update(int step, in EpochStats sofar)
        {
            if (step == steps)
            {
                return; // the epoch line follows
            }

            double seconds = sofar.Elapsed.TotalSeconds;
            double eta = seconds / step * (steps - step);
            report.Line(
                $"  {title} {100.0 * step / steps,3:F0}%: loss {sofar.MeanLoss:F4}, accuracy {sofar.Accuracy:F4}, " +
                $"{sofar.SamplesPerSecond:N0} images/s, ETA {eta:F0} s");
        }
    }

    private sealed class NoProgress : IEpochProgress
    {
        public static readonly NoProgress Instance = new();

        public void Update(int step, in EpochStats sofar)
        {
        }
    }
}
