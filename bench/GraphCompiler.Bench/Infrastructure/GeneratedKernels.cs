#if WITH_GENERATED_MODELS
using System.Reflection;
using System.Runtime.Intrinsics;

namespace GraphCompiler.Bench.Infrastructure;

/// <summary>
/// The generated kernels of a model, for bench-only timing: they live in the generated file-local class
/// <c>&lt;Model&gt;Kernels</c>, which this finds by reflection, with the model's own workspace and packed weights
/// (after one <c>Forward</c>, which packs them). Kernels are found by name, the widest vector width this process
/// runs first (<c>Lstm_L1_InputRows</c> finds <c>Lstm_L1_InputRows_V512</c>), and called through function pointers.
/// </summary>
public sealed unsafe class GeneratedKernels
{
    private readonly Type _class;

    private GeneratedKernels(Type kernels, float* arena, float* parameters, float* packed, string[] listed)
    {
        _class = kernels;
        Arena = arena;
        Parameters = parameters;
        Packed = packed;
        Listed = listed;
    }

    public float* Arena { get; }

    public float* Parameters { get; }

    public float* Packed { get; }

    /// <summary>The kernels <c>Forward</c> runs, in order, from the model's <c>Summary</c> line "Kernels: ...".</summary>
    public string[] Listed { get; }

    /// <summary>The vector width suffix of the kernels this process runs.</summary>
    public static string Suffix => Vector512.IsHardwareAccelerated ? "_V512"
        : Vector256.IsHardwareAccelerated ? "_V256"
        : Vector128.IsHardwareAccelerated ? "_V128" : "_Scalar";

    /// <summary>The signature of a forward kernel: (arena, parameters, packed, batch).</summary>
    public static readonly Type[] ForwardSignature = [typeof(float*), typeof(float*), typeof(float*), typeof(int)];

    /// <summary>The kernels of <paramref name="model"/>, or null when the generated class cannot be found (a generator change renamed it).</summary>
    public static GeneratedKernels? Of(ICompiledModel model, float[] input, float[] output)
    {
        Type modelType = model.GetType();
        Type? kernels = modelType.Assembly.GetTypes().FirstOrDefault(t =>
            t.Namespace == modelType.Namespace && t.Name.EndsWith("__" + modelType.Name + "Kernels", StringComparison.Ordinal));
        FieldInfo? arenaField = modelType.GetField("__arena", BindingFlags.Instance | BindingFlags.NonPublic);
        FieldInfo? packedFloats = modelType.GetField("PackedFloats", BindingFlags.Static | BindingFlags.NonPublic);
        MethodInfo? pack = kernels?.GetMethod("PackWeights", BindingFlags.Static | BindingFlags.NonPublic);
        string? summary = (string?)modelType.GetProperty("Summary", BindingFlags.Static | BindingFlags.Public)?.GetValue(null);
        string? line = summary?.Split('\n').FirstOrDefault(l => l.StartsWith("Kernels: ", StringComparison.Ordinal));
        if (kernels is null || arenaField is null || packedFloats is null || pack is null || line is null)
        {
            return null;
        }

        model.Forward(input, output);
        float* packed = model.Parameters.EnsurePacked(
            (int)packedFloats.GetValue(null)!,
            (delegate*<float*, float*, void>)pack.MethodHandle.GetFunctionPointer());
        return new GeneratedKernels(kernels, ((AlignedBuffer)arenaField.GetValue(model)!).Pointer, model.Parameters.Pointer, packed, line["Kernels: ".Length..].Split(", "));
    }

    /// <summary>The kernel <paramref name="name"/> at this process's width (else without a suffix), or null.</summary>
    public MethodInfo? Find(string name, Type[] signature) =>
        _class.GetMethod(name + Suffix, BindingFlags.Static | BindingFlags.NonPublic, signature)
        ?? _class.GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic, signature);

    /// <summary>The entry point of <see cref="Find"/>'s kernel; throws if there is none.</summary>
    public IntPtr Pointer(string name, Type[] signature) =>
        (Find(name, signature) ?? throw new InvalidOperationException($"no generated kernel {name}{Suffix} (none at this width, or a generator change renamed it)"))
        .MethodHandle.GetFunctionPointer();
}
#endif
