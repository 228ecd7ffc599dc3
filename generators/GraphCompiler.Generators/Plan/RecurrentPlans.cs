using System.Collections.Generic;

namespace GraphCompiler.Generators.Plan;

/// <summary>
/// The geometry of one stacked layer of an LSTM or GRU, shared by its kernels. Hidden units are padded to
/// whole groups of 16 (Hp); the gates of a group lie together, [group][gate][16], so a tile of hidden units
/// holds all its gates in registers and the cell update is its epilogue. Offsets are per sample in the arena
/// (the sample's region starts at <c>arena + s * ArenaFloatsPerSample</c>).
/// </summary>
internal sealed class RecurrentLayerPlan
{
    public const int Group = 16;
    /// <summary>Gate slots per group in the gate buffers: 4 for both (a GRU keeps the recurrent part of n in the fourth).</summary>
    public const int Slots = 4;

    public string Layer { get; set; } = "";
    /// <summary>The method-name stem of the op's kernels (Lstm, Lstm_2, ...).</summary>
    public string KernelStem { get; set; } = "";
    public int Index { get; set; }
    public bool IsLstm { get; set; }
    /// <summary>Gates with weights: 4 (i, f, g, o) or 3 (r, z, n).</summary>
    public int Gates => IsLstm ? 4 : 3;
    public int Steps { get; set; }
    public int Hidden { get; set; }
    public int HiddenPadded { get; set; }
    public int Groups => HiddenPadded / Group;
    public int InputSize { get; set; }
    public int InputPadded { get; set; }
    /// <summary>Floats from one gate row of a step to the next: Slots x Hp.</summary>
    public int GateRow => Slots * HiddenPadded;

    // Arena offsets (per sample).
    /// <summary>x_t = sample + InputOffset + t * InputRowStride (the op's input, or the states of the layer below from slot 1).</summary>
    public int InputOffset { get; set; }
    public int InputRowStride { get; set; }
    public int StatesOffset { get; set; }
    public int CellsOffset { get; set; } = -1;
    public int GatesOffset { get; set; }
    public int StateGradsOffset { get; set; }
    public int GateGradsOffset { get; set; }
    public int CarryOffset { get; set; }

    // Packed weights.
    /// <summary>W_ih as [group][k][gate][16].</summary>
    public int PackedInput { get; set; }
    /// <summary>The bias of the input projection, [group][gate][16]: b_ih + b_hh (a GRU's n gate: b_in only).</summary>
    public int PackedBias { get; set; } = -1;
    /// <summary>W_hh as [group][k][gate][16].</summary>
    public int PackedRecurrent { get; set; }
    /// <summary>A GRU's b_hn, [Hp]: it stays inside r * (W_hn h + b_hn).</summary>
    public int PackedRecurrentBias { get; set; } = -1;
    /// <summary>W_hh rows in gate-slot order, [group][gate][16][Hp], for the transposed product of backward.</summary>
    public int PackedRecurrentRows { get; set; }
    /// <summary>W_ih rows in gate-slot order, [group][gate][16][InputPadded], for the input gradient (-1 when not needed).</summary>
    public int PackedInputRows { get; set; } = -1;

    // Parameters (PyTorch layouts) and their gradients at the same offsets.
    public int WeightIh { get; set; }
    public int WeightHh { get; set; }
    public int BiasIh { get; set; } = -1;
    public int BiasHh { get; set; } = -1;

    /// <summary>Slot of gate q in the gate-gradient buffer, for the input side: a GRU's input-side n gradient is in slot 3.</summary>
    public int InputSlot(int q) => !IsLstm && q == 2 ? 3 : q;

    public string Label => $"{Layer} layer {Index}";
}

/// <summary>A register tile of a recurrent kernel: rows (samples or steps) by units (vectors of hidden lanes).</summary>
internal sealed record RecurrentTile(int Rows, int Units);

/// <summary>
/// The tile of a batch-1 step: <see cref="Units"/> units whose weights are read as one stream, each k of it
/// <see cref="KSplit"/> ways into separate sums (so that enough independent FMA chains hide their latency).
/// </summary>
internal sealed record BatchOneTile(int Units, int KSplit);

/// <summary>Tiles per width: the main tile over whole row blocks, then the remainder one row at a time.</summary>
internal sealed class RecurrentTiles
{
    public Dictionary<VectorWidth, (RecurrentTile Main, RecurrentTile Tail)> ByWidth { get; } = new();

    /// <summary>
    /// Steps and their gradients: tiles for the samples that the main tile's blocks leave (fewer than its rows), each
    /// used at most once, largest first, before the tail tile takes the rest one sample at a time (which streams the
    /// weights once per sample).
    /// </summary>
    public Dictionary<VectorWidth, RecurrentTile[]> Remainders { get; } = new();

    /// <summary>The remainder tiles of a width (none unless given).</summary>
    public RecurrentTile[] RemaindersAt(VectorWidth width) => Remainders.TryGetValue(width, out RecurrentTile[]? tiles) ? tiles : [];

    /// <summary>Steps only: the tile of the software-pipelined batch-1 loop, per width (none for scalar).</summary>
    public Dictionary<VectorWidth, BatchOneTile> BatchOne { get; } = new();
}

/// <summary>The input projection of all steps at once: gates[s][t] = x[s][t] W_ih^T + bias, one GEMM over batch x steps rows.</summary>
internal sealed class RecurrentProjectionPlan : KernelPlan
{
    public RecurrentLayerPlan Layer { get; set; } = null!;
    public RecurrentTiles Tiling { get; } = new();
}

/// <summary>
/// The time loop: per step, the recurrent product h_{t-1} W_hh^T added to the projected gates, with the gate
/// nonlinearities and the state update fused as its epilogue. Stores h, c and the activated gates.
/// </summary>
internal sealed class RecurrentStepsPlan : KernelPlan
{
    public RecurrentLayerPlan Layer { get; set; } = null!;
    /// <summary>The method of one unit's cell that the step tiles of batches above 1 call (one per op: every layer's is the same).</summary>
    public string CellName { get; set; } = "";
    /// <summary>Whether this plan's kernel emits <see cref="CellName"/> (the first of the op's layers), the others call it.</summary>
    public bool EmitsCell { get; set; }
    public RecurrentTiles Tiling { get; } = new();
    /// <summary>Given initial states: [layers][H] tensors (offsets in the arena), copied into slot 0; -1 for zeros.</summary>
    public int InitialH { get; set; } = -1;
    public int InitialC { get; set; } = -1;
    /// <summary>One of a stack's layers: batch 1 runs in the stack's wavefront (<see cref="RecurrentLayersPlan"/>), not here.</summary>
    public bool InStack { get; set; }
}

/// <summary>
/// The stacked layers of one op after layer 0's input projection: every layer's steps and the input projections
/// of layers 1 and up. Batches above 1 run them layer after layer (<see cref="Steps"/> and <see cref="Projections"/>,
/// each its own method). Batch 1 runs them as a wavefront: layer l runs <see cref="Lag"/> steps behind layer l - 1,
/// one step of each layer in turn, and projects its input <see cref="Lag"/> steps at a time as soon as the layer
/// below has computed them. Each layer's step reads its recurrent weights from L2; passes that alternate between
/// the layers' weights keep the L2 stream at its full rate, where passes over the same weights again and again
/// ran at about three quarters of it (bench/results/lstm-l2.md).
/// </summary>
internal sealed class RecurrentLayersPlan : KernelPlan
{
    /// <summary>Steps a layer runs behind the layer below, and the steps of input projection it does at a time.</summary>
    public const int Lag = 4;

    public List<RecurrentStepsPlan> Steps { get; } = new();
    /// <summary>The input projections of layers 1 and up (layer 0's runs before, on its own).</summary>
    public List<RecurrentProjectionPlan> Projections { get; } = new();
}

/// <summary>Copies the top layer's states (slots 1..T) into the op's output sequence [T, H].</summary>
internal sealed class RecurrentOutputPlan : KernelPlan
{
    public RecurrentLayerPlan Top { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>h_n or c_n: the last slot of each layer's states or cells, gathered into [layers, H].</summary>
internal sealed class RecurrentStatePlan : KernelPlan
{
    public List<RecurrentLayerPlan> Layers { get; } = new();
    public bool Cells { get; set; }
    public TensorPlace Output { get; set; } = null!;
}

/// <summary>Backward: the gradient of the output sequence [T, H] into the top layer's padded step gradients.</summary>
internal sealed class RecurrentGradInPlan : KernelPlan
{
    public RecurrentLayerPlan Top { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
}

/// <summary>
/// Backpropagation through time for one layer: steps from last to first, each the transposed recurrent
/// product (dZ_{t+1} W_hh) and the gate derivatives fused. The final-state gradients start it; the
/// initial-state gradients end it when the states were given.
/// </summary>
internal sealed class RecurrentStepsGradPlan : KernelPlan
{
    public RecurrentLayerPlan Layer { get; set; } = null!;
    /// <summary>The method of one unit's gate derivatives that the step tiles call (one per op: every layer's is the same).</summary>
    public string CellName { get; set; } = "";
    /// <summary>Whether this plan's kernel emits <see cref="CellName"/> (the first of the op's layers to run backward), the others call it.</summary>
    public bool EmitsCell { get; set; }
    public RecurrentTiles Tiling { get; } = new();
    /// <summary>Gradients of h_n / c_n ([layers][H], arena offsets), or -1 when nothing reads them.</summary>
    public int FinalHGrad { get; set; } = -1;
    public int FinalCGrad { get; set; } = -1;
    /// <summary>Gradients of given initial states, or -1.</summary>
    public int InitialHGrad { get; set; } = -1;
    public int InitialCGrad { get; set; } = -1;
    public bool AccumulateInitialH { get; set; }
    public bool AccumulateInitialC { get; set; }
}

/// <summary>Weight and bias gradients of one layer: sums over batch x steps of dZ (x)^T and dZ (h_{t-1})^T.</summary>
internal sealed class RecurrentWeightGradPlan : KernelPlan
{
    public RecurrentLayerPlan Layer { get; set; } = null!;
    public bool Accumulate { get; set; }

    /// <summary>
    /// Scratch for the columns of weight_ih (weight_hh) past the last whole vector, [columns][Gates x Hp]: the sample blocks'
    /// sums of those columns add up there in vectors, and are scattered into the gradient's rows once, after the last block;
    /// -1 when every width's vectors cover the columns (input (hidden) size a multiple of 16).
    /// </summary>
    public int IhTailScratch { get; set; } = -1;

    /// <inheritdoc cref="IhTailScratch"/>
    public int HhTailScratch { get; set; } = -1;

    /// <summary>
    /// The floats of tail scratch for <paramref name="columns"/> columns: the most any width leaves past its last vector is
    /// columns mod 16 (mod 8 and mod 4 are no larger).
    /// </summary>
    public static int TailFloats(RecurrentLayerPlan layer, int columns) => columns % 16 * layer.Gates * layer.HiddenPadded;
}

/// <summary>dX = dZ W_ih: into the step gradients of the layer below, or (layer 0) the op's input gradient.</summary>
internal sealed class RecurrentInputGradPlan : KernelPlan
{
    public RecurrentLayerPlan Layer { get; set; } = null!;
    /// <summary>Layer 0: the input's gradient tensor (flat [T, I]) and whether it adds to an earlier contribution.</summary>
    public TensorPlace? GradInput { get; set; }
    public bool Accumulate { get; set; }
    /// <summary>Layer 0: padded rows [T][InputPadded] written first, then copied into <see cref="GradInput"/>.</summary>
    public int PaddedOffset { get; set; } = -1;
    /// <summary>Layer above 0: the step gradients of the layer below.</summary>
    public RecurrentLayerPlan? Below { get; set; }
}

/// <summary><c>x[.., i]</c>: one index of dimension Dim of a flat tensor (outer x extent x inner), copied out.</summary>
internal sealed class SelectPlan : KernelPlan
{
    public TensorPlace Input { get; set; } = null!;
    public TensorPlace Output { get; set; } = null!;
    public int Outer { get; set; }
    public int Extent { get; set; }
    public int Inner { get; set; }
    public int Index { get; set; }
}

/// <summary>Backward of a Select: the gradient goes to the selected index; the rest of the input gradient is zero.</summary>
internal sealed class SelectGradPlan : KernelPlan
{
    public SelectPlan Forward { get; set; } = null!;
    public TensorPlace GradOutput { get; set; } = null!;
    public TensorPlace GradInput { get; set; } = null!;
    public bool Accumulate { get; set; }
}

/// <summary>
/// A recurrent weight [gates x H][K] (PyTorch) rearranged once per parameter change: Gates mode into
/// [group][k][gate][16] for the forward products; Rows mode into [group][gate][16][KPadded] for backward.
/// The bias mode writes the projection bias [group][gate][16] (b_ih + b_hh; a GRU's n gate b_in only), and
/// RecurrentBias a GRU's b_hn [Hp].
/// </summary>
internal sealed class RecurrentPack : PackPlan
{
    public RecurrentPackKind Mode { get; set; }
    public RecurrentLayerPlan Layer { get; set; } = null!;
    /// <summary>Columns of the source weight (input size, or H).</summary>
    public int K { get; set; }
    public int KPadded { get; set; }
    /// <summary>Bias modes: the second source (b_hh), or -1.</summary>
    public int SecondSourceOffset { get; set; } = -1;
}

internal enum RecurrentPackKind
{
    Gates,
    Rows,
    Bias,
    RecurrentBias,
}
