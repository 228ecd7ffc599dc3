using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>How each vector width is spelled in C#: the same kernel text, printed for each ISA.</summary>
internal sealed class VectorSyntax
{
    private VectorSyntax(VectorWidth width) => Width = width;

    public VectorWidth Width { get; }
    public int Lanes => (int)Width;
    public bool IsScalar => Width == VectorWidth.Scalar;

    /// <summary>The static class: Vector512, Vector256, Vector128.</summary>
    public string Class => "Vector" + (Lanes * 32); // the file imports System.Runtime.Intrinsics

    public string Type => Class + "<float>";

    /// <summary>Method suffix of the kernels of this width.</summary>
    public string Suffix => IsScalar ? "Scalar" : "V" + (Lanes * 32);

    public string Load(string address) => $"{Class}.Load({address})";

    public string Store(string value, string address) => $"{Class}.Store({value}, {address});";

    public string Broadcast(string value) => $"{Class}.Create({value})";

    /// <summary>
    /// a * b + c. 512/256-bit hardware always has FMA; 128-bit code also runs on x64 without it, where the
    /// estimate form compiles to a multiply and an add instead of a slow software fallback.
    /// </summary>
    public string MultiplyAdd(string a, string b, string c) => Width == VectorWidth.V128
        ? $"{Class}.MultiplyAddEstimate({a}, {b}, {c})"
        : $"{Class}.FusedMultiplyAdd({a}, {b}, {c})";

    /// <summary>The hardware max (one vmaxps): pooling and ReLU need no IEEE NaN/-0 ordering.</summary>
    public string Max(string a, string b) => $"{Class}.MaxNative({a}, {b})";

    public string Zero => Type + ".Zero";

    public string Activate(Activation activation, string value) => activation switch
    {
        Activation.Relu => $"{Class}.MaxNative({value}, {Zero})",
        Activation.Tanh => $"global::GraphCompiler.VectorMath.Tanh({value})",
        Activation.Sigmoid => $"global::GraphCompiler.VectorMath.Sigmoid({value})",
        _ => value,
    };

    public static string ActivateScalar(Activation activation, string value) => activation switch
    {
        Activation.Relu => $"global::System.MathF.Max({value}, 0f)",
        Activation.Tanh => $"global::GraphCompiler.VectorMath.Tanh({value})",
        Activation.Sigmoid => $"global::GraphCompiler.VectorMath.Sigmoid({value})",
        _ => value,
    };

    public static readonly VectorSyntax V512 = new(VectorWidth.V512);
    public static readonly VectorSyntax V256 = new(VectorWidth.V256);
    public static readonly VectorSyntax V128 = new(VectorWidth.V128);
    public static readonly VectorSyntax Scalar = new(VectorWidth.Scalar);

    /// <summary>In dispatch order: the widest accelerated width runs.</summary>
    public static readonly VectorSyntax[] All = { V512, V256, V128, Scalar };
}
