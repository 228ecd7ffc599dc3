namespace GraphCompiler;

/// <summary>
/// A lookup table, as <c>nn.Embedding</c>: weight [num_embeddings, embedding_dim], initialized from N(0, 1).
/// Called on integer tokens: <c>src_embed(src)</c> gives [length, embedding_dim] per sample.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class EmbeddingAttribute : Attribute
{
    public EmbeddingAttribute(int numEmbeddings, int embeddingDim)
    {
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
    }

    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
}

/// <summary>
/// Layer normalization over the last dimension, as <c>nn.LayerNorm(normalized_shape)</c>: weight (ones) and
/// bias (zeros) of [normalized_shape]; the variance is the biased one and <see cref="Eps"/> is added inside the root.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class LayerNormAttribute : Attribute
{
    public LayerNormAttribute(int normalizedShape) => NormalizedShape = normalizedShape;

    public int NormalizedShape { get; }
    public double Eps { get; set; } = 1e-5;
}

/// <summary>
/// Multi-head attention, as <c>nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)</c>: parameters
/// <c>in_proj_weight</c> [3E, E], <c>in_proj_bias</c> [3E], <c>out_proj.weight</c> [E, E] and <c>out_proj.bias</c> [E].
/// Called as <c>self_attn(query, key, value, keyPaddingMask: src == Pad, isCausal: true)</c>; returns the attention
/// output only (PyTorch's <c>need_weights=False</c>). <see cref="Dropout"/> drops attention probabilities in training.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class MultiheadAttentionAttribute : Attribute
{
    public MultiheadAttentionAttribute(int embedDim, int numHeads)
    {
        EmbedDim = embedDim;
        NumHeads = numHeads;
    }

    public int EmbedDim { get; }
    public int NumHeads { get; }
    public double Dropout { get; set; }
    public bool Bias { get; set; } = true;
    public bool BatchFirst { get; set; } = true;
}

/// <summary>
/// A learned positional encoding: <c>pos(x)</c> adds row p of the weight [max_length, dim] (initialized from N(0, 1),
/// as the <c>nn.Embedding(max_length, dim)</c> it usually is in PyTorch, applied to <c>arange(length)</c>) to row p of
/// a [length, dim] tensor, length at most max_length.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class PositionalEmbeddingAttribute : Attribute
{
    public PositionalEmbeddingAttribute(int maxLength, int dim)
    {
        MaxLength = maxLength;
        Dim = dim;
    }

    public int MaxLength { get; }
    public int Dim { get; }
}

/// <summary>
/// A fixed number of copies of a <see cref="ModuleAttribute"/> class, as <c>nn.ModuleList</c>:
/// <c>[Repeat(2)] readonly EncoderLayer[] layers;</c>, parameters named <c>layers.0.…</c>, <c>layers.1.…</c>,
/// called in a constant-bound loop: <c>for (int i = 0; i &lt; 2; i++) x = layers[i].Forward(x);</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, Inherited = false)]
public sealed class RepeatAttribute : Attribute
{
    public RepeatAttribute(int count) => Count = count;

    public int Count { get; }
}

/// <summary>An embedding member (<c>[Embedding(48, 64)] readonly EmbeddingLayer src_embed;</c>), called on tokens.</summary>
public delegate Tensor EmbeddingLayer(Tokens tokens);

/// <summary>
/// A multi-head attention member (<c>[MultiheadAttention(64, 4)] readonly AttentionLayer self_attn;</c>), called as
/// <c>self_attn(q, k, v, keyPaddingMask: mask, isCausal: true)</c>.
/// </summary>
public delegate Tensor AttentionLayer(Tensor query, Tensor key, Tensor value, Mask? keyPaddingMask = null, bool isCausal = false);

/// <summary>
/// A symbolic sequence of integer tokens, one sample of which is <c>[Shape(length)]</c>. The generated Forward
/// takes it as a <c>ReadOnlySpan&lt;int&gt;</c>. <c>src == Pad</c> is PyTorch's key padding mask.
/// </summary>
#pragma warning disable CS0660, CS0661 // symbolic: equality is an expression of the forward definition, never evaluated
public sealed class Tokens
#pragma warning restore CS0660, CS0661
{
    private Tokens()
    {
    }

    /// <summary><c>src == Pad</c>: true where the token is padding (PyTorch's <c>key_padding_mask</c>).</summary>
    public static Mask operator ==(Tokens tokens, int padToken) => throw Symbolic.NotExecuted();

    /// <summary>Not supported in a forward definition (only <c>== pad</c> makes a padding mask).</summary>
    public static Mask operator !=(Tokens tokens, int padToken) => throw Symbolic.NotExecuted();
}

/// <summary>A symbolic key padding mask: <c>src == Pad</c> in a forward definition.</summary>
public sealed class Mask
{
    private Mask()
    {
    }
}
