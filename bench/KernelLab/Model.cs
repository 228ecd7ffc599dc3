using System.Runtime.InteropServices;

namespace KernelLab;

public readonly unsafe struct KernelInfo(string cat, string name, int width, string desc, int acc,
    delegate*<float*, float*, float*, float*, void> fn)
{
    public readonly string Cat = cat, Name = name, Desc = desc;
    public readonly int Width = width, Acc = acc;
    public readonly delegate*<float*, float*, float*, float*, void> Fn = fn;
}

/// <summary>Seeded weights in PyTorch layout, their packed forms (done once, "at load"),
/// and the activation buffers of the lab. All buffers are 64-byte aligned native memory.</summary>
public static unsafe class Model
{
    public const int Batch = 64;
    public static float[] W1 = null!, B1 = null!, W2 = null!, B2 = null!, Fw1 = null!, Fb1 = null!, Fw2 = null!, Fb2 = null!;
    public static float[] Images = null!; // [64][28][28]

    // packed weights
    public static float* W1p, B1p, W2p, B2p;       // conv: [kh][kw][ci][co]
    public static float* Fw1Dot, Fw1Kn, Fb1p;       // fc1: [128][3136] columns permuted to NHWC; [3136][128]
    public static float* Fw2Dot, Fb2p;              // fc2: [10][128]

    public static float* Alloc(int n)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        new Span<float>(p, n).Clear();
        return p;
    }

    public static float* Copy(float[] a)
    {
        var p = Alloc(a.Length);
        a.CopyTo(new Span<float>(p, a.Length));
        return p;
    }

    static float[] Rand(Random r, int n, float scale)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static void Init()
    {
        var r = new Random(1234);
        W1 = Rand(r, 32 * 9, 1f / 3); B1 = Rand(r, 32, 0.1f);
        W2 = Rand(r, 64 * 32 * 9, 1f / MathF.Sqrt(288)); B2 = Rand(r, 64, 0.1f);
        Fw1 = Rand(r, 128 * 3136, 1f / 56); Fb1 = Rand(r, 128, 0.1f);
        Fw2 = Rand(r, 10 * 128, 1f / MathF.Sqrt(128)); Fb2 = Rand(r, 10, 0.1f);
        Images = Rand(r, Batch * 784, 1f);

        W1p = Alloc(9 * 32);
        for (int co = 0; co < 32; co++)
            for (int t = 0; t < 9; t++)
                W1p[t * 32 + co] = W1[co * 9 + t];
        B1p = Copy(B1);
        W2p = Alloc(9 * 32 * 64);
        for (int co = 0; co < 64; co++)
            for (int ci = 0; ci < 32; ci++)
                for (int t = 0; t < 9; t++)
                    W2p[(t * 32 + ci) * 64 + co] = W2[(co * 32 + ci) * 9 + t];
        B2p = Copy(B2);
        Fw1Dot = Alloc(128 * 3136);
        Fw1Kn = Alloc(3136 * 128);
        for (int n = 0; n < 128; n++)
            for (int c = 0; c < 64; c++)
                for (int hw = 0; hw < 49; hw++)
                {
                    float v = Fw1[n * 3136 + c * 49 + hw];  // PyTorch flatten index c*49+h*7+w
                    int k = hw * 64 + c;                      // our NHWC index (h*7+w)*64+c
                    Fw1Dot[n * 3136 + k] = v;
                    Fw1Kn[k * 128 + n] = v;
                }
        Fb1p = Copy(Fb1);
        Fw2Dot = Copy(Fw2);
        Fb2p = Copy(Fb2);
    }

    /// <summary>CHW [C][H][W] -> NHWC [(H+2p)][(W+2p)][C] with a zero border of p.</summary>
    public static void ChwToPaddedHwc(float[] chw, int c, int h, int w, int p, float* dst)
    {
        int pw = w + 2 * p;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    dst[((y + p) * pw + x + p) * c + ch] = chw[(ch * h + y) * w + x];
    }

    /// <summary>NHWC [H][W][C] (with border p) -> CHW [C][H][W].</summary>
    public static float[] PaddedHwcToChw(float* src, int c, int h, int w, int p)
    {
        int pw = w + 2 * p;
        var o = new float[c * h * w];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    o[(ch * h + y) * w + x] = src[((y + p) * pw + x + p) * c + ch];
        return o;
    }
}
