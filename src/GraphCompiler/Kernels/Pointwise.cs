using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>Element-wise loops over one sample's floats that generated models call: scaling and adding.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static unsafe class Pointwise
{
    /// <summary>y = x * scale (y may be x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(float* x, float* y, int length, float scale)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512.Store(Vector512.Load(x + i) * scale, y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256.Store(Vector256.Load(x + i) * scale, y + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128.Store(Vector128.Load(x + i) * scale, y + i);
            }
        }

        for (; i < length; i++)
        {
            y[i] = x[i] * scale;
        }
    }

    /// <summary>y = a + b (y may be a or b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* a, float* b, float* y, int length)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512.Store(Vector512.Load(a + i) + Vector512.Load(b + i), y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256.Store(Vector256.Load(a + i) + Vector256.Load(b + i), y + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128.Store(Vector128.Load(a + i) + Vector128.Load(b + i), y + i);
            }
        }

        for (; i < length; i++)
        {
            y[i] = a[i] + b[i];
        }
    }

    /// <summary>dx = scale * dy, or dx += scale * dy when <paramref name="accumulate"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleInto(float* dy, float* dx, int length, float scale, bool accumulate)
    {
        if (!accumulate)
        {
            Scale(dy, dx, length, scale);
            return;
        }

        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512.Store(Vector512.Load(dx + i) + Vector512.Load(dy + i) * scale, dx + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256.Store(Vector256.Load(dx + i) + Vector256.Load(dy + i) * scale, dx + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128.Store(Vector128.Load(dx + i) + Vector128.Load(dy + i) * scale, dx + i);
            }
        }

        for (; i < length; i++)
        {
            dx[i] += dy[i] * scale;
        }
    }

    /// <summary>y = max(x, 0) (y may be x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(float* x, float* y, int length)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512.Store(Vector512.Max(Vector512.Load(x + i), Vector512<float>.Zero), y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256.Store(Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero), y + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128.Store(Vector128.Max(Vector128.Load(x + i), Vector128<float>.Zero), y + i);
            }
        }

        for (; i < length; i++)
        {
            y[i] = MathF.Max(x[i], 0f);
        }
    }

    /// <summary>dx (+)= dy where y &gt; 0: the gradient of ReLU from its output.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward(float* y, float* dy, float* dx, int length, bool accumulate)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512<float> g = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(y + i), Vector512<float>.Zero), Vector512.Load(dy + i), Vector512<float>.Zero);
                Vector512.Store(accumulate ? Vector512.Load(dx + i) + g : g, dx + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256<float> g = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero), Vector256.Load(dy + i), Vector256<float>.Zero);
                Vector256.Store(accumulate ? Vector256.Load(dx + i) + g : g, dx + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128<float> g = Vector128.ConditionalSelect(Vector128.GreaterThan(Vector128.Load(y + i), Vector128<float>.Zero), Vector128.Load(dy + i), Vector128<float>.Zero);
                Vector128.Store(accumulate ? Vector128.Load(dx + i) + g : g, dx + i);
            }
        }

        for (; i < length; i++)
        {
            float g = y[i] > 0f ? dy[i] : 0f;
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }
}
