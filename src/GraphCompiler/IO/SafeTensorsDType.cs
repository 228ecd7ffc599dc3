namespace GraphCompiler;

/// <summary>The element types of the safetensors format (its <c>dtype</c> strings, e.g. <c>F32</c>, <c>BF16</c>).</summary>
public enum SafeTensorsDType
{
    /// <summary><c>BOOL</c>, 1 byte.</summary>
    Bool,
    /// <summary><c>U8</c>.</summary>
    U8,
    /// <summary><c>I8</c>.</summary>
    I8,
    /// <summary><c>F8_E5M2</c>.</summary>
    F8E5M2,
    /// <summary><c>F8_E4M3</c>.</summary>
    F8E4M3,
    /// <summary><c>I16</c>.</summary>
    I16,
    /// <summary><c>U16</c>.</summary>
    U16,
    /// <summary><c>F16</c>: IEEE half precision; read as float.</summary>
    F16,
    /// <summary><c>BF16</c>: bfloat16; read as float.</summary>
    BF16,
    /// <summary><c>I32</c>.</summary>
    I32,
    /// <summary><c>U32</c>.</summary>
    U32,
    /// <summary><c>F32</c>: what this library writes and computes in.</summary>
    F32,
    /// <summary><c>I64</c>.</summary>
    I64,
    /// <summary><c>U64</c>.</summary>
    U64,
    /// <summary><c>F64</c>: read as float (rounded).</summary>
    F64,
}

/// <summary>Names and sizes of <see cref="SafeTensorsDType"/>.</summary>
public static class SafeTensorsDTypes
{
    private static readonly string[] Names =
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "I64", "U64", "F64"];

    private static readonly int[] Sizes = [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8];

    /// <summary>The format's spelling, e.g. <c>F8_E4M3</c>.</summary>
    public static string Name(this SafeTensorsDType type) => Names[(int)type];

    /// <summary>Bytes per element.</summary>
    public static int Size(this SafeTensorsDType type) => Sizes[(int)type];

    /// <summary>Whether <see cref="SafeTensorsFile.ReadAsFloat(SafeTensorInfo, Span{float})"/> can convert it.</summary>
    public static bool IsReadableAsFloat(this SafeTensorsDType type) =>
        type is SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64;

    /// <summary>Parses the format's spelling (case-sensitive, as the format).</summary>
    public static bool TryParse(string name, out SafeTensorsDType type)
    {
        int index = Array.IndexOf(Names, name);
        type = (SafeTensorsDType)Math.Max(index, 0);
        return index >= 0;
    }
}
