using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

/// <summary>
/// The attention kernel against nn.MultiheadAttention (PyTorch 1.13, identity projections, double precision):
/// the values come from tests/golden/attention_kernel_check.py, which builds the same formula inputs. Checks the
/// scale, the head split and the mask conventions (float causal attn_mask, boolean key_padding_mask).
/// </summary>
public unsafe class AttentionPyTorchTests
{
    private const int Tq = 4, Tk = 5, Heads = 2, E = 8;

    private static readonly float[] NoMask = [1.20488202f, 1.39000682f, 1.38700072f, 1.19627057f, 1.1100242f, 0.704751429f, 0.204093859f, -0.324186857f, -1.09188376f, -1.29403779f, -1.32104988f, -1.16926407f, -1.04092357f, -0.605537169f, -0.0881941521f, 0.44108553f, 1.04362973f, 1.24174005f, 1.27178668f, 1.12970295f, 1.14667452f, 0.749574574f, 0.251023226f, -0.281502939f, -0.579462873f, -0.702982731f, -0.731357174f, -0.660745854f, -1.05175937f, -0.619385131f, -0.103180016f, 0.426990031f];

    private static readonly float[] CausalMask = [1.44533728f, 1.49262502f, 1.33789298f, 1.00208339f, 0.530646518f, -0.0126108711f, -0.554161438f, -1.02070885f, -1.27900665f, -1.41996657f, -1.36874066f, -1.13226213f, -0.746928664f, -0.253140182f, 0.274909636f, 0.765751724f, 1.22405899f, 1.35764311f, 1.30747661f, 1.08034929f, 0.868392052f, 0.383173126f, -0.153906485f, -0.670155575f, -0.697314853f, -0.865153984f, -0.915898581f, -0.842680602f, -1.05422101f, -0.621046189f, -0.103815679f, 0.427465796f];

    private static readonly float[] CausalAndPadding = [1.44533728f, 1.49262502f, 1.33789298f, 1.00208339f, 0.530646518f, -0.0126108711f, -0.554161438f, -1.02070885f, -1.27900665f, -1.41996657f, -1.36874066f, -1.13226213f, -0.746928664f, -0.253140182f, 0.274909636f, 0.765751724f, 1.22405899f, 1.35764311f, 1.30747661f, 1.08034929f, 0.868392052f, 0.383173126f, -0.153906485f, -0.670155575f, -0.453397825f, -0.505102508f, -0.488443935f, -0.405676768f, -0.727486384f, -0.245830237f, 0.269097879f, 0.74760486f];

    private static float[] Data(int rows, double phase)
    {
        var x = new float[rows * E];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < E; c++)
            x[r * E + c] = (float)(Math.Sin(0.37 * (r * E + c) + phase) * 1.5);
        return x;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Matches_PyTorch_multihead_attention(bool causal, bool padded)
    {
        float[] q = Data(Tq, 0.1), k = Data(Tk, 0.7), v = Data(Tk, 1.3);
        int[] tokens = [7, 8, 9, 0, 10]; // key 3 is the pad token 0
        var o = new float[Tq * E];
        fixed (float* pq = q, pk = k, pv = v, po = o)
        fixed (int* pt = tokens)
        {
            AttentionKernel.Forward(pq, E, pk, E, pv, E, po, E, Tq, Tk, Heads, E / Heads, 1f / MathF.Sqrt(E / Heads), causal,
                padded ? pt : null, 0, null, 0f, 0);
        }

        float[] expected = !causal ? NoMask : padded ? CausalAndPadding : CausalMask;
        Close.Assert(expected, o, 1e-5, 1e-6);
    }
}
