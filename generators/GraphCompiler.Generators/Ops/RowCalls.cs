using System.Globalization;
using GraphCompiler.Generators.Emit;
using GraphCompiler.Generators.Graph;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Ops;

/// <summary>How the row-kernel ops spell their calls: arena addresses, parameter addresses, literals.</summary>
internal static class RowCalls
{
    public const string Kernels = "global::GraphCompiler.Kernels.";

    /// <summary>This sample's copy of a tensor.</summary>
    public static string At(TensorValue t) => "sample + " + LoweringContext.PlaceOf(t).Offset.ToString(CultureInfo.InvariantCulture);

    /// <summary>A token tensor, read as ints.</summary>
    public static string Tokens(TensorValue t) => $"(int*)({At(t)})";

    public static string Parameter(LoweringContext context, string name) => "parameters + " + context.ParameterOffset(name).ToString(CultureInfo.InvariantCulture);

    public static string Gradient(LoweringContext context, string name) => "grads + " + context.ParameterOffset(name).ToString(CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string F(double value) => CodeWriter.F((float)value);

    public static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Zeroes a parameter's gradient before the first kernel that adds to it.</summary>
    public static string Clear(LoweringContext context, string name, int length) =>
        $"new global::System.Span<float>({Gradient(context, name)}, {I(length)}).Clear();";

    /// <summary>The dropout seed of this sample for one site of the graph (the node's id keeps sites apart).</summary>
    public static string Seed(LoweringContext context, Node node) =>
        $"{Kernels}DropoutKernel.Mix(*(ulong*)(sample + {I(context.DropoutSeedOffset)}), {I(node.Id + 1)}UL)";
}
