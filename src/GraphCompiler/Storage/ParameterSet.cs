using System.ComponentModel;

namespace GraphCompiler;

/// <summary>
/// A model's parameters: one contiguous, 64-byte aligned buffer with named views in PyTorch's
/// <c>state_dict</c> names and layouts. One set can serve several model instances (workspaces), one per
/// thread, as long as nobody writes to it while they run.
/// </summary>
/// <remarks>
/// Kernels may keep a packed copy of some weights (a layout that suits the vector unit). The copy is
/// rebuilt when <see cref="Version"/> changes: every write access through this class (<see cref="this[string]"/>,
/// <see cref="Values"/>, <see cref="MarkModified"/>) counts as a modification.
/// </remarks>
public sealed unsafe class ParameterSet
{
    private readonly AlignedBuffer _buffer;
    private readonly Dictionary<string, ParameterInfo> _byName;
    private readonly object _packLock = new();
    private AlignedBuffer? _packed;
    private volatile int _version;
    private volatile int _packedVersion = -1;

    /// <summary>Creates the parameters of a layout with PyTorch's default initialization.</summary>
    public ParameterSet(IReadOnlyList<ParameterInfo> layout, int seed)
    {
        Layout = layout;
        _byName = new Dictionary<string, ParameterInfo>(layout.Count, StringComparer.Ordinal);
        int total = 0;
        foreach (ParameterInfo p in layout)
        {
            _byName.Add(p.Name, p);
            total = Math.Max(total, p.Offset + p.Length);
        }

        _buffer = new AlignedBuffer(total);
        Initialize(seed);
    }

    /// <summary>The named tensors, in declaration order.</summary>
    public IReadOnlyList<ParameterInfo> Layout { get; }

    /// <summary>Number of floats in the buffer (the parameters plus alignment gaps).</summary>
    public int BufferLength => _buffer.Length;

    /// <summary>Number of trainable values.</summary>
    public int Count => Layout.Sum(p => p.Length);

    /// <summary>Bumped by every write access; packed copies compare against it.</summary>
    public int Version => _version;

    /// <summary>The whole buffer, writable (counts as a modification).</summary>
    public Span<float> Values
    {
        get
        {
            MarkModified();
            return _buffer.Span;
        }
    }

    /// <summary>The named tensor, writable (counts as a modification).</summary>
    public Span<float> this[string name]
    {
        get
        {
            ParameterInfo p = Find(name);
            MarkModified();
            return _buffer.Span.Slice(p.Offset, p.Length);
        }
    }

    /// <summary>The named tensor, read-only.</summary>
    public ReadOnlySpan<float> Read(string name)
    {
        ParameterInfo p = Find(name);
        return _buffer.Span.Slice(p.Offset, p.Length);
    }

    /// <summary>The whole buffer, read-only.</summary>
    public ReadOnlySpan<float> ReadAll() => _buffer.Span;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public ParameterInfo Info(string name) => Find(name);

    /// <summary>Tells kernels that the values changed (after writing through a pointer or a saved span).</summary>
    public void MarkModified() => Interlocked.Increment(ref _version);

    /// <summary>Re-draws every parameter with PyTorch's default initialization from <paramref name="seed"/>.</summary>
    public void Initialize(int seed)
    {
        Span<float> all = _buffer.Span;
        all.Clear();
        var rng = new SeededRandom((ulong)(uint)seed);
        foreach (ParameterInfo p in Layout)
        {
            Span<float> values = all.Slice(p.Offset, p.Length);
            switch (p.Init)
            {
                case ParameterInit.Uniform:
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = rng.NextUniform(-p.Bound, p.Bound);
                    }

                    break;
                case ParameterInit.Normal:
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = p.Bound * rng.NextNormal();
                    }

                    break;
                case ParameterInit.Ones:
                    values.Fill(1f);
                    break;
                case ParameterInit.Zeros:
                    break;
            }
        }

        MarkModified();
    }

    /// <summary>Copies every value from another set of the same layout.</summary>
    public void CopyFrom(ParameterSet other)
    {
        if (other.BufferLength != BufferLength || other.Layout.Count != Layout.Count)
        {
            throw new ArgumentException(
                $"Parameter layouts differ: {other.Layout.Count} tensors ({other.BufferLength} floats) given, " +
                $"{Layout.Count} tensors ({BufferLength} floats) expected.", nameof(other));
        }

        other._buffer.Span.CopyTo(_buffer.Span);
        MarkModified();
    }

    /// <summary>For generated code: the buffer's address.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float* Pointer => _buffer.Pointer;

    /// <summary>
    /// For generated code: the packed copy of the weights, rebuilt by <paramref name="pack"/> (from the
    /// parameter buffer into the packed buffer) when the values changed since it was last built.
    /// Thread-safe: concurrent callers wait for one rebuild.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public float* EnsurePacked(int packedLength, delegate*<float*, float*, void> pack)
    {
        AlignedBuffer? packed = _packed;
        if (packed is not null && _packedVersion == _version)
        {
            return packed.Pointer;
        }

        lock (_packLock)
        {
            packed = _packed ??= new AlignedBuffer(packedLength);
            int version = _version;
            if (_packedVersion != version)
            {
                pack(_buffer.Pointer, packed.Pointer);
                _packedVersion = version;
            }

            return packed.Pointer;
        }
    }

    private ParameterInfo Find(string name) =>
        _byName.TryGetValue(name, out ParameterInfo? p)
            ? p
            : throw new KeyNotFoundException(
                $"No parameter named '{name}'. The model has: {string.Join(", ", Layout.Select(l => l.Name))}.");
}
