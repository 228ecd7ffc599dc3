using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>Row-wise log-softmax over the last dimension of a contiguous <c>[rows, n]</c> tensor, and its gradient.</summary>
public static unsafe class SoftmaxKernel
{
    /// <summary>y = x - max - log Σ exp(x - max) per row; <paramref name="y"/> may equal <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmax(float* x, float* y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (nint)r * n;
            float* yr = y + (nint)r * n;
            float max = VectorOps.Max(xr, n);
            float shift = max + MathF.Log(SumExp(xr, max, n));
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= n; j += 16)
                {
                    (Vector512.Load(xr + j) - Vector512.Create(shift)).Store(yr + j);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= n; j += 8)
                {
                    (Vector256.Load(xr + j) - Vector256.Create(shift)).Store(yr + j);
                }
            }

            if (Vector128.IsHardwareAccelerated)
            {
                for (; j + 4 <= n; j += 4)
                {
                    (Vector128.Load(xr + j) - Vector128.Create(shift)).Store(yr + j);
                }
            }

            for (; j < n; j++)
            {
                yr[j] = xr[j] - shift;
            }
        }
    }

    /// <summary>
    /// dx = (accumulate ? dx : 0) + dy - exp(y)·Σ dy per row, from the output <paramref name="y"/> of
    /// <see cref="LogSoftmax"/>. <paramref name="dx"/> may equal <paramref name="dy"/> (the sum is taken first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogSoftmaxBackward(float* y, float* dy, float* dx, int rows, int n, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* yr = y + (nint)r * n;
            float* dyr = dy + (nint)r * n;
            float* dxr = dx + (nint)r * n;
            float s = VectorOps.Sum(dyr, n);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= n; j += 16)
                {
                    Vector512<float> v = Vector512.FusedMultiplyAdd(
                        VectorMath.Exp(Vector512.Load(yr + j)), Vector512.Create(-s), Vector512.Load(dyr + j));
                    (accumulate ? Vector512.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 8 <= n; j += 8)
                {
                    Vector256<float> v = Vector256.FusedMultiplyAdd(
                        VectorMath.Exp(Vector256.Load(yr + j)), Vector256.Create(-s), Vector256.Load(dyr + j));
                    (accumulate ? Vector256.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            if (Vector128.IsHardwareAccelerated)
            {
                for (; j + 4 <= n; j += 4)
                {
                    Vector128<float> v = Vector128.MultiplyAddEstimate(
                        VectorMath.Exp(Vector128.Load(yr + j)), Vector128.Create(-s), Vector128.Load(dyr + j));
                    (accumulate ? Vector128.Load(dxr + j) + v : v).Store(dxr + j);
                }
            }

            for (; j < n; j++)
            {
                float v = dyr[j] - MathF.Exp(yr[j]) * s;
                dxr[j] = accumulate ? dxr[j] + v : v;
            }
        }
    }

    /// <summary>Σ exp(x - max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float SumExp(float* x, float max, int n)
    {
        int j = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16)
            {
                acc += VectorMath.Exp(Vector512.Load(x + j) - Vector512.Create(max));
            }

            s += Vector512.Sum(acc);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                acc += VectorMath.Exp(Vector256.Load(x + j) - Vector256.Create(max));
            }

            s += Vector256.Sum(acc);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> acc = Vector128<float>.Zero;
            for (; j + 4 <= n; j += 4)
            {
                acc += VectorMath.Exp(Vector128.Load(x + j) - Vector128.Create(max));
            }

            s += Vector128.Sum(acc);
        }

        for (; j < n; j++)
        {
            s += MathF.Exp(x[j] - max);
        }

        return s;
    }
}
