using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Kernels;

/// <summary>
/// One vector of float lanes at a fixed width, as static members, so that a kernel written once as a generic method
/// over <typeparamref name="TSelf"/> is compiled by the JIT into one specialized copy per width (the structs are
/// value types: no interface dispatch, everything inlines). <see cref="Lanes512"/>, <see cref="Lanes256"/> and
/// <see cref="Lanes128"/> wrap <c>Vector512</c>, <c>Vector256</c> and <c>Vector128</c> (the last one also on Arm).
/// </summary>
internal unsafe interface ISimdLanes<TSelf>
    where TSelf : struct, ISimdLanes<TSelf>
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf Load(float* p);

    static abstract void Store(TSelf x, float* p);

    static abstract TSelf Broadcast(float x);

    static abstract TSelf Add(TSelf a, TSelf b);

    static abstract TSelf Subtract(TSelf a, TSelf b);

    static abstract TSelf Multiply(TSelf a, TSelf b);

    /// <summary>a·b + c (fused where the hardware has it).</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>The largest lane.</summary>
    static abstract float MaxAcross(TSelf x);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TSelf x);

    /// <summary>exp(x - shift) per lane, exactly 0 where x is -∞.</summary>
    static abstract TSelf ExpShifted(TSelf x, float shift);

    /// <summary>x in the lanes whose index (<paramref name="first"/> + lane) is below <paramref name="end"/>, -∞ in the others.</summary>
    static abstract TSelf Below(TSelf x, int first, int end);

    /// <summary>
    /// The dropout factors of the lanes <paramref name="first"/> + lane: <paramref name="keepScale"/> where
    /// <see cref="DropoutMask"/> keeps the index, 0 where it drops it.
    /// </summary>
    static abstract TSelf Keep(uint seed32, uint first, uint threshold, float keepScale);
}

/// <summary>16 floats (AVX-512).</summary>
internal readonly unsafe struct Lanes512 : ISimdLanes<Lanes512>
{
    private readonly Vector512<float> _v;

    private Lanes512(Vector512<float> v) => _v = v;

    public static int Count => 16;

    public static Lanes512 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(float* p) => new(Vector512.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes512 x, float* p) => x._v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Broadcast(float x) => new(Vector512.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Add(Lanes512 a, Lanes512 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Subtract(Lanes512 a, Lanes512 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Multiply(Lanes512 a, Lanes512 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.Max(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Lanes512 x) => Lanes256.MaxAcross(Vector256.Max(x._v.GetLower(), x._v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes512 x) => Vector512.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 ExpShifted(Lanes512 x, float shift) => new(Vector512.ConditionalSelect(
        Vector512.Equals(x._v, Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero, VectorMath.Exp(x._v - Vector512.Create(shift))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Below(Lanes512 x, int first, int end) => new(Vector512.ConditionalSelect(
        Vector512.LessThan(Vector512<int>.Indices + Vector512.Create(first), Vector512.Create(end)).AsSingle(), x._v, Vector512.Create(float.NegativeInfinity)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Keep(uint seed32, uint first, uint threshold, float keepScale)
    {
        Vector512<uint> hash = DropoutMask.Hash(Vector512.Create(seed32), Vector512<uint>.Indices + Vector512.Create(first));
        Vector512<float> kept = Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(hash, 8), Vector512.Create(threshold)).AsSingle();
        return new(Vector512.ConditionalSelect(kept, Vector512.Create(keepScale), Vector512<float>.Zero));
    }
}

/// <summary>8 floats (AVX2).</summary>
internal readonly unsafe struct Lanes256 : ISimdLanes<Lanes256>
{
    private readonly Vector256<float> _v;

    private Lanes256(Vector256<float> v) => _v = v;

    public static int Count => 8;

    public static Lanes256 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(float* p) => new(Vector256.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes256 x, float* p) => x._v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Broadcast(float x) => new(Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Add(Lanes256 a, Lanes256 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Subtract(Lanes256 a, Lanes256 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Multiply(Lanes256 a, Lanes256 b) => new(a._v * b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.Max(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Lanes256 x) => MaxAcross(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float MaxAcross(Vector256<float> x) => Lanes128.MaxAcross(Vector128.Max(x.GetLower(), x.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes256 x) => Vector256.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 ExpShifted(Lanes256 x, float shift) => new(Vector256.ConditionalSelect(
        Vector256.Equals(x._v, Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero, VectorMath.Exp(x._v - Vector256.Create(shift))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Below(Lanes256 x, int first, int end) => new(Vector256.ConditionalSelect(
        Vector256.LessThan(Vector256<int>.Indices + Vector256.Create(first), Vector256.Create(end)).AsSingle(), x._v, Vector256.Create(float.NegativeInfinity)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Keep(uint seed32, uint first, uint threshold, float keepScale)
    {
        Vector256<uint> hash = DropoutMask.Hash(Vector256.Create(seed32), Vector256<uint>.Indices + Vector256.Create(first));
        Vector256<float> kept = Vector256.GreaterThanOrEqual(Vector256.ShiftRightLogical(hash, 8), Vector256.Create(threshold)).AsSingle();
        return new(Vector256.ConditionalSelect(kept, Vector256.Create(keepScale), Vector256<float>.Zero));
    }
}

/// <summary>4 floats (SSE, AdvSimd).</summary>
internal readonly unsafe struct Lanes128 : ISimdLanes<Lanes128>
{
    private readonly Vector128<float> _v;

    private Lanes128(Vector128<float> v) => _v = v;

    public static int Count => 4;

    public static Lanes128 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Load(float* p) => new(Vector128.Load(p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes128 x, float* p) => x._v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Broadcast(float x) => new(Vector128.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Add(Lanes128 a, Lanes128 b) => new(a._v + b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Subtract(Lanes128 a, Lanes128 b) => new(a._v - b._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Multiply(Lanes128 a, Lanes128 b) => new(a._v * b._v);

    /// <summary>Fused where the hardware has FMA (as the 128-bit GEMM kernels), else a multiply and an add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 MultiplyAdd(Lanes128 a, Lanes128 b, Lanes128 c) => new(Vector128.MultiplyAddEstimate(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Max(Lanes128 a, Lanes128 b) => new(Vector128.Max(a._v, b._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Lanes128 x) => MaxAcross(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float MaxAcross(Vector128<float> x)
    {
        x = Vector128.Max(x, Vector128.Shuffle(x, Vector128.Create(2, 3, 0, 1)));
        x = Vector128.Max(x, Vector128.Shuffle(x, Vector128.Create(1, 0, 3, 2)));
        return x.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes128 x) => Vector128.Sum(x._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 ExpShifted(Lanes128 x, float shift) => new(Vector128.ConditionalSelect(
        Vector128.Equals(x._v, Vector128.Create(float.NegativeInfinity)), Vector128<float>.Zero, VectorMath.Exp(x._v - Vector128.Create(shift))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Below(Lanes128 x, int first, int end) => new(Vector128.ConditionalSelect(
        Vector128.LessThan(Vector128<int>.Indices + Vector128.Create(first), Vector128.Create(end)).AsSingle(), x._v, Vector128.Create(float.NegativeInfinity)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes128 Keep(uint seed32, uint first, uint threshold, float keepScale)
    {
        Vector128<uint> hash = DropoutMask.Hash(Vector128.Create(seed32), Vector128<uint>.Indices + Vector128.Create(first));
        Vector128<float> kept = Vector128.GreaterThanOrEqual(Vector128.ShiftRightLogical(hash, 8), Vector128.Create(threshold)).AsSingle();
        return new(Vector128.ConditionalSelect(kept, Vector128.Create(keepScale), Vector128<float>.Zero));
    }
}
