namespace GraphCompiler;

/// <summary>How pixel bytes become floats.</summary>
public enum PixelScaling
{
    /// <summary>
    /// torchvision's <c>ToTensor()</c> then <c>Normalize((mean,), (std,))</c>: <c>(byte / 255 - mean) / std</c>, the
    /// usual preprocessing of the MNIST examples (mean 0.1307, std 0.3081).
    /// </summary>
    Normalized,

    /// <summary><c>ToTensor()</c> alone: <c>byte / 255</c>, in [0, 1].</summary>
    UnitRange,
}

/// <summary>An in-memory image classification set: row-major float images <c>[count, rows, columns]</c> and int labels.</summary>
public sealed class LabeledImages
{
    /// <summary>Wraps existing arrays (no copy).</summary>
    public LabeledImages(float[] images, int[] labels, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (images.Length != (long)labels.Length * rows * columns)
        {
            throw new ArgumentException(
                $"{images.Length} floats are not {labels.Length} images of {rows} x {columns}.", nameof(images));
        }

        Images = images;
        Labels = labels;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>All images, one after another.</summary>
    public float[] Images { get; }

    /// <summary>One label per image.</summary>
    public int[] Labels { get; }

    /// <summary>Rows per image.</summary>
    public int Rows { get; }

    /// <summary>Columns per image.</summary>
    public int Columns { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>Floats per image.</summary>
    public int SampleSize => Rows * Columns;

    /// <summary>The image at <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Image(int index) => Images.AsSpan(index * SampleSize, SampleSize);

    /// <summary>
    /// Reads an IDX image file and its IDX label file (either may be gzip-compressed) and converts the pixels.
    /// </summary>
    /// <param name="imagesPath">IDX images (magic 2051).</param>
    /// <param name="labelsPath">IDX labels (magic 2049), as many as images.</param>
    /// <param name="scaling">Normalized (default) or [0, 1].</param>
    /// <param name="mean">Mean subtracted by <see cref="PixelScaling.Normalized"/> (MNIST's by default).</param>
    /// <param name="std">Standard deviation divided by <see cref="PixelScaling.Normalized"/>.</param>
    /// <exception cref="InvalidDataException">A file is not a valid IDX file of its kind, or the counts differ.</exception>
    public static LabeledImages Load(
        string imagesPath,
        string labelsPath,
        PixelScaling scaling = PixelScaling.Normalized,
        float mean = MnistData.Mean,
        float std = MnistData.StdDev)
    {
        IdxImages images = IdxFile.ReadImages(imagesPath);
        byte[] labels = IdxFile.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new InvalidDataException(
                $"'{labelsPath}' holds {labels.Length} labels but '{imagesPath}' holds {images.Count} images; they must match.");
        }

        if (scaling == PixelScaling.Normalized && !(std > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, "The standard deviation must be above zero.");
        }

        // One table of 256 values, computed in float exactly as torchvision does (divide, subtract, divide).
        Span<float> table = stackalloc float[256];
        for (int b = 0; b < 256; b++)
        {
            float v = b / 255f;
            table[b] = scaling == PixelScaling.Normalized ? (v - mean) / std : v;
        }

        var pixels = new float[images.Pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = table[images.Pixels[i]];
        }

        var intLabels = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            intLabels[i] = labels[i];
        }

        return new LabeledImages(pixels, intLabels, images.Rows, images.Columns);
    }
}
