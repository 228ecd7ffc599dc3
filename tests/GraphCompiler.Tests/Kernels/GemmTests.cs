using GraphCompiler.Kernels;
using GraphCompiler.Tests.Reference;
using Xunit;

namespace GraphCompiler.Tests.Kernels;

/// <summary>
/// The three products and the column sums against double-precision loops, on sizes that leave remainders at
/// every vector width (and the transformer's shapes), with strided rows and both accumulate modes. Which width
/// runs is decided by the process (the suite is also run with AVX-512, AVX2 or all intrinsics disabled).
/// </summary>
public unsafe class GemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 1, 3, 17 }, { 3, 17, 5 }, { 4, 16, 4 }, { 5, 65, 9 }, { 17, 20, 33 }, { 20, 64, 64 },
        { 7, 64, 48 }, { 20, 64, 192 }, { 9, 256, 64 }, { 64, 65, 20 }, { 33, 31, 65 }, { 16, 64, 48 }, { 14, 19, 88 },
    };

    private const double Rtol = 1e-5, Atol = 1e-5;

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyTransposedB_matches_double_reference(int m, int k, int n)
    {
        foreach (bool accumulate in new[] { false, true })
        foreach (bool withBias in new[] { false, true })
        {
            int lda = k + 3, ldb = k + 1, ldc = n + 5; // strided rows
            float[] a = TestData.Random(m * lda, 1), b = TestData.Random(n * ldb, 2), bias = TestData.Random(n, 3);
            float[] c = TestData.Random(m * ldc, 4);
            float[] expected = (float[])c.Clone();
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? c[i * ldc + j] : 0;
                for (int p = 0; p < k; p++) s += (double)a[i * lda + p] * b[j * ldb + p];
                if (withBias) s += bias[j];
                expected[i * ldc + j] = (float)s;
            }

            fixed (float* pa = a, pb = b, pc = c, pbias = bias)
            {
                Gemm.MultiplyTransposedB(pa, lda, pb, ldb, pc, ldc, m, k, n, withBias ? pbias : null, accumulate);
            }

            Close.Assert(expected, c, Rtol, Atol * Math.Sqrt(k), $"m {m} k {k} n {n} acc {accumulate} bias {withBias}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Multiply_matches_double_reference(int m, int k, int n)
    {
        // C starts from itself (accumulate), from 0, or from the bias row (MultiplyAddBias, with and without a bias)
        foreach (string start in new[] { "accumulate", "zero", "bias", "null bias" })
        {
            int lda = k + 2, ldb = n + 3, ldc = n + 1;
            float[] a = TestData.Random(m * lda, 5), b = TestData.Random(k * ldb, 6), c = TestData.Random(m * ldc, 7), bias = TestData.Random(n, 8);
            float[] expected = (float[])c.Clone();
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = start switch { "accumulate" => c[i * ldc + j], "bias" => bias[j], _ => 0 };
                for (int p = 0; p < k; p++) s += (double)a[i * lda + p] * b[p * ldb + j];
                expected[i * ldc + j] = (float)s;
            }

            fixed (float* pa = a, pb = b, pc = c, pbias = bias)
            {
                if (start.EndsWith("bias", StringComparison.Ordinal))
                {
                    Gemm.MultiplyAddBias(pa, lda, pb, ldb, pc, ldc, m, k, n, start == "bias" ? pbias : null);
                }
                else
                {
                    Gemm.Multiply(pa, lda, pb, ldb, pc, ldc, m, k, n, start == "accumulate");
                }
            }

            Close.Assert(expected, c, Rtol, Atol * Math.Sqrt(k), $"m {m} k {k} n {n} start {start}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MultiplyTransposedA_accumulates_the_double_reference(int rows, int m, int n)
    {
        int lda = m + 1, ldb = n + 2, ldc = n + 3;
        float[] a = TestData.Random(rows * lda, 8), b = TestData.Random(rows * ldb, 9), c = TestData.Random(m * ldc, 10);
        float[] expected = (float[])c.Clone();
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = c[i * ldc + j];
            for (int r = 0; r < rows; r++) s += (double)a[r * lda + i] * b[r * ldb + j];
            expected[i * ldc + j] = (float)s;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            Gemm.MultiplyTransposedA(pa, lda, pb, ldb, pc, ldc, rows, m, n);
        }

        Close.Assert(expected, c, Rtol, Atol * Math.Sqrt(rows), $"rows {rows} m {m} n {n}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(20, 64)]
    [InlineData(65, 33)]
    public void AddColumnSums_adds_to_the_sums(int rows, int n)
    {
        int lda = n + 4;
        float[] a = TestData.Random(rows * lda, 11), sums = TestData.Random(n + 1, 12);
        float[] expected = (float[])sums.Clone();
        for (int j = 0; j < n; j++)
        {
            double s = sums[j];
            for (int r = 0; r < rows; r++) s += a[r * lda + j];
            expected[j] = (float)s;
        }

        fixed (float* pa = a, ps = sums)
        {
            Gemm.AddColumnSums(pa, lda, rows, n, ps);
        }

        Close.Assert(expected, sums, Rtol, Atol * Math.Sqrt(rows));
        Assert.Equal(expected[n], sums[n]); // the element past the row is untouched
    }

    [Fact]
    public void Products_leave_the_padding_between_strided_rows_untouched()
    {
        const int m = 6, k = 20, n = 17, ldc = n + 7;
        float[] a = TestData.Random(m * k, 13), w = TestData.Random(n * k, 14), c = new float[m * ldc];
        Array.Fill(c, 42f);
        fixed (float* pa = a, pw = w, pc = c)
        {
            Gemm.MultiplyTransposedB(pa, k, pw, k, pc, ldc, m, k, n, null, false);
            Gemm.Multiply(pa, k, pw, k, pc, ldc, m, k, n, true);
        }

        for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++)
            Assert.Equal(42f, c[i * ldc + j]);
    }
}
