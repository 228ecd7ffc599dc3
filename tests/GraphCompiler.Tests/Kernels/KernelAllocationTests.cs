using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

/// <summary>Every kernel allocates nothing on the managed heap once warmed up (scratch lives on the stack).</summary>
public unsafe class KernelAllocationTests
{
    [Fact]
    public void Kernels_allocate_nothing_after_warm_up()
    {
        const int t = 12, e = 64, heads = 4, ff = 256, vocab = 50;
        float[] x = TestData.Random(t * 3 * e, 1), w = TestData.Random(ff * e, 2), y = new float[t * ff], z = new float[t * 3 * e];
        float[] gamma = TestData.Random(e, 3), beta = TestData.Random(e, 4), stats = new float[2 * t];
        float[] lse = new float[heads * t], emb = TestData.Random(vocab * e, 5), grads = new float[3 * t * e];
        int[] tokens = new int[t];
        for (int i = 0; i < t; i++) tokens[i] = i % 3 == 2 ? 0 : 1 + i;
        int[] targets = (int[])tokens.Clone();
        float[] logProbs = TestData.Random(t * vocab, 6), lossGrad = new float[t * vocab];

        fixed (float* px = x, pw = w, py = y, pz = z, pg = gamma, pb = beta, ps = stats, pl = lse, pe = emb, pgr = grads)
        fixed (int* pt = tokens)
        {
            for (int i = 0; i < 300; i++) RunAll(px, pw, py, pz, pg, pb, ps, pl, pe, pgr, pt);
            Thread.Sleep(200); // let tiered compilation's background promotions land
            for (int i = 0; i < 5; i++) RunAll(px, pw, py, pz, pg, pb, ps, pl, pe, pgr, pt);

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++)
            {
                RunAll(px, pw, py, pz, pg, pb, ps, pl, pe, pgr, pt);
                SequenceLoss.NegativeLogLikelihood(logProbs, targets, lossGrad, 0, out _);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
        }

        Assert.Contains(lossGrad, g => g != 0f);
    }

    private static void RunAll(float* px, float* pw, float* py, float* pz, float* pg, float* pb, float* ps, float* pl, float* pe, float* pgr, int* pt)
    {
        const int t = 12, e = 64, heads = 4, ff = 256;
        Gemm.MultiplyTransposedB(px, e, pw, e, py, ff, t, e, ff, pb, false);
        Gemm.Multiply(py, ff, pw, e, pz, e, t, ff, e, true);
        Gemm.MultiplyTransposedA(py, ff, px, e, pw, e, t, ff, e);
        Gemm.AddColumnSums(py, ff, t, ff, pgr);
        LayerNormKernel.Forward(px, pz, t, e, pg, pb, 1e-5f, ps);
        LayerNormKernel.Backward(px, pz, ps, pg, t, e, pgr, true, pg, pb);
        AttentionKernel.Forward(px, 3 * e, px + e, 3 * e, px + 2 * e, 3 * e, pz, e, t, t, heads, e / heads, 0.25f, true, pt, 0, pl, 0.1f, 9);
        AttentionKernel.Backward(px, 3 * e, px + e, 3 * e, px + 2 * e, 3 * e, pz, e, pz, e, pl, pgr, e, pgr + t * e, e, pgr + 2 * t * e, e,
            t, t, heads, e / heads, 0.25f, true, pt, 0, 0.1f, 9, false);
        EmbeddingKernel.Forward(pt, t, pe, e, 8f, px, pz);
        EmbeddingKernel.Backward(pt, t, pz, e, 8f, pe);
        DropoutKernel.Forward(pz, pz, t * e, 0.1f, 3);
        DropoutKernel.Backward(pz, pz, t * e, 0.1f, 3, true);
        ActivationKernel.Gelu(py, py, t * ff);
        ActivationKernel.GeluBackward(py, py, py, t * ff, true);
        SoftmaxKernel.LogSoftmax(pz, pz, t, e);
        SoftmaxKernel.LogSoftmaxBackward(pz, pz, pz, t, e, false);
    }
}
