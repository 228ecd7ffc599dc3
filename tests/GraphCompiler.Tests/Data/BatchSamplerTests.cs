using Xunit;

namespace GraphCompiler.Tests.Data;

public class BatchSamplerTests
{
    // Sample i holds the values i * 10 + k, k < 3, and label i % 7: every copied sample can be traced back.
    private static BatchSampler Create(int count, int batchSize, bool dropLast = false)
    {
        var samples = new float[count * 3];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < 3; k++)
            {
                samples[i * 3 + k] = i * 10 + k;
            }

            labels[i] = i % 7;
        }

        return new BatchSampler(samples, 3, labels, batchSize, dropLast);
    }

    private static List<int> Epoch(BatchSampler sampler)
    {
        var seen = new List<int>();
        var images = new float[sampler.BatchSize * 3];
        var labels = new int[sampler.BatchSize];
        for (int b = 0; b < sampler.BatchCount; b++)
        {
            int n = sampler.CopyBatch(b, images, labels);
            Assert.Equal(sampler.BatchLength(b), n);
            for (int k = 0; k < n; k++)
            {
                int index = (int)images[k * 3] / 10;
                Assert.Equal(index * 10 + 2, images[k * 3 + 2]);
                Assert.Equal(index % 7, labels[k]);
                seen.Add(index);
            }
        }

        return seen;
    }

    [Fact]
    public void Every_sample_appears_exactly_once_per_epoch()
    {
        BatchSampler sampler = Create(103, 10);
        Assert.Equal(11, sampler.BatchCount);
        Assert.Equal(3, sampler.BatchLength(10));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            sampler.Shuffle(epoch);
            List<int> seen = Epoch(sampler);
            Assert.Equal(Enumerable.Range(0, 103), seen.Order());
            Assert.NotEqual(Enumerable.Range(0, 103), seen); // shuffled
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_and_another_seed_another()
    {
        BatchSampler a = Create(50, 8), b = Create(50, 8);
        a.Shuffle(42);
        b.Shuffle(7);
        b.Shuffle(42); // the order depends on the seed alone, not on earlier shuffles
        Assert.Equal(Epoch(a), Epoch(b));
        b.Shuffle(43);
        Assert.NotEqual(Epoch(a), Epoch(b));
        b.ResetOrder();
        Assert.Equal(Enumerable.Range(0, 50), Epoch(b));
    }

    [Fact]
    public void Drop_last_skips_the_partial_batch()
    {
        BatchSampler sampler = Create(25, 10, dropLast: true);
        Assert.Equal(2, sampler.BatchCount);
        sampler.Shuffle(1);
        List<int> seen = Epoch(sampler);
        Assert.Equal(20, seen.Count);
        Assert.Equal(20, seen.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.BatchLength(2));
    }

    [Fact]
    public void Small_spans_are_rejected_and_batches_allocate_nothing()
    {
        BatchSampler sampler = Create(40, 16);
        Assert.Throws<ArgumentException>(() => sampler.CopyBatch(0, new float[16 * 3 - 1], new int[16]));
        var images = new float[16 * 3];
        var labels = new int[16];
        sampler.Shuffle(3);
        sampler.CopyBatch(0, images, labels);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int epoch = 0; epoch < 5; epoch++)
        {
            sampler.Shuffle(epoch);
            for (int b = 0; b < sampler.BatchCount; b++)
            {
                sampler.CopyBatch(b, images, labels);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Wraps_labeled_images()
    {
        var data = new LabeledImages([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], [0, 1], 2, 2);
        var sampler = new BatchSampler(data, batchSize: 2);
        var images = new float[8];
        var labels = new int[2];
        Assert.Equal(2, sampler.CopyBatch(0, images, labels));
        Assert.Equal(data.Images, images);
        Assert.Equal([0, 1], labels);
        Assert.Throws<ArgumentException>(() => new LabeledImages(new float[7], [0, 1], 2, 2));
    }
}
