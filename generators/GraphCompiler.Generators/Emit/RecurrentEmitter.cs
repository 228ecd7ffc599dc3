using System;
using System.Linq;
using GraphCompiler.Generators.Plan;

namespace GraphCompiler.Generators.Emit;

/// <summary>
/// Prints the kernels of LSTM and GRU layers (<see cref="RecurrentProjectionPlan"/> and the others in
/// RecurrentPlans.cs). Every width, scalar included, prints from the same text through <see cref="Lanes"/>:
/// a "unit" is one vector of hidden lanes, and a register tile holds all gates of its units.
/// </summary>
internal static class RecurrentEmitter
{
    private const string Header = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

    /// <summary>A step tile's out-of-line cell (or its derivatives): not inlined, the final code from the first call.</summary>
    private const string CellHeader = "[MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // the final code from the first call, as the kernels";
    private const string ForwardSignature = "(float* arena, float* parameters, float* packed, int batch)";

    /// <summary>The vector syntax of a width, with the scalar width spelled as plain floats.</summary>
    private sealed class Lanes
    {
        private readonly VectorSyntax _v;

        public Lanes(VectorSyntax v) => _v = v;

        public int N => _v.Lanes;
        public bool IsScalar => _v.IsScalar;
        public string T => _v.IsScalar ? "float" : _v.Type;
        public string Suffix => _v.Suffix;
        public VectorWidth Width => _v.Width;
        public string Zero => _v.IsScalar ? "0f" : _v.Zero;
        public string One => _v.IsScalar ? "1f" : _v.Type + ".One";

        public string Load(string address) => _v.IsScalar ? $"*({address})" : _v.Load(address);

        public string Store(string value, string address) => _v.IsScalar ? $"*({address}) = {value};" : _v.Store(value, address);

        public string Broadcast(string value) => _v.IsScalar ? value : _v.Broadcast(value);

        public string Fma(string a, string b, string c) => _v.IsScalar ? $"{c} + {a} * {b}" : _v.MultiplyAdd(a, b, c);

        public static string Sigmoid(string x) => $"global::GraphCompiler.VectorMath.Sigmoid({x})";

        public static string Tanh(string x) => $"global::GraphCompiler.VectorMath.Tanh({x})";
    }

    private static string Slot(RecurrentLayerPlan p, string q) => p.IsLstm ? q : $"({q} == 2 ? 3 : {q})";

    /// <summary>Units in tiles of <paramref name="units"/>, then one at a time; declares ln{i} (first lane) and go{i} (offset in a gate row).</summary>
    private static void UnitLoop(CodeWriter w, int total, int units, Action<int> body, bool serpentine = false)
    {
        int full = total / units * units;
        if (full == units)
        {
            using (w.Scope())
            {
                w.Line("const int u = 0;");
                body(units);
            }
        }
        else if (full > 0 && serpentine)
        {
            // Odd steps walk the units backwards: the weights a step read last are still in L1 when the next begins.
            using (w.Block($"for (int uu = 0; uu < {full}; uu += {units})"))
            {
                w.Line($"int u = (t & 1) == 0 ? uu : {full - units} - uu;");
                body(units);
            }
        }
        else if (full > 0)
        {
            using (w.Block($"for (int u = 0; u < {full}; u += {units})"))
            {
                body(units);
            }
        }

        if (full < total)
        {
            using (w.Block($"for (int u = {full}; u < {total}; u++)"))
            {
                body(1);
            }
        }
    }

    /// <summary>
    /// Samples in blocks of the main tile's rows, then the <paramref name="remainders"/> tiles (each at most once,
    /// largest first), then one at a time with the tail tile; units inside.
    /// </summary>
    private static void SampleTiles(CodeWriter w, (RecurrentTile Main, RecurrentTile Tail) tiles, RecurrentTile[] remainders, int units, Action<int, int> tile)
    {
        w.Line("int s = 0;");
        if (tiles.Main.Rows > 1)
        {
            using (w.Block($"for (; s + {tiles.Main.Rows} <= batch; s += {tiles.Main.Rows})"))
            {
                UnitLoop(w, units, tiles.Main.Units, u => tile(tiles.Main.Rows, u), serpentine: true);
            }
        }

        foreach (RecurrentTile remainder in remainders)
        {
            using (w.Block($"if (s + {remainder.Rows} <= batch)"))
            {
                UnitLoop(w, units, remainder.Units, u => tile(remainder.Rows, u), serpentine: true);
                w.Line($"s += {remainder.Rows};");
            }
        }

        using (w.Block("for (; s < batch; s++)"))
        {
            UnitLoop(w, units, tiles.Tail.Units, u => tile(1, u), serpentine: true);
        }
    }

    private static void UnitOffsets(CodeWriter w, Lanes l, int units)
    {
        for (int i = 0; i < units; i++)
        {
            w.Line($"int ln{i} = (u + {i}) * {l.N}, go{i} = (ln{i} >> 4) * 64 + (ln{i} & 15); // first hidden lane; its offset in a gate row");
        }
    }

    // ---------------------------------------------------------------- forward

    public static void EmitProjection(CodeWriter w, RecurrentProjectionPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        var (main, _) = k.Tiling.ByWidth[v.Width];
        int units = p.HiddenPadded / l.N;
        w.Line($"// {k.Comment}");
        w.Line($"// {v.Suffix}: tiles of {main.Rows} step(s) x {l.N} hidden lanes x {p.Gates} gates, then single steps");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{ForwardSignature}"))
        {
            ProjectionPrologue(w, p);
            UnitLoop(w, units, 1, _ =>
            {
                UnitOffsets(w, l, 1);
                using (w.Block("for (int s = 0; s < batch; s++)"))
                {
                    w.Line($"float* x = arena + s * {stride} + {p.InputOffset}; // [{p.Steps}][{p.InputSize}], rows {p.InputRowStride} apart");
                    w.Line($"float* gates = arena + s * {stride} + {p.GatesOffset}; // [{p.Steps}][{p.Groups}][4][16]");
                    ProjectionSteps(w, p, l, main.Rows, "0", p.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            });
        }

        w.Line();
    }

    /// <summary>Steps <paramref name="begin"/> to <paramref name="end"/> - 1 of one unit: tiles of <paramref name="rows"/> steps, then single steps.</summary>
    private static void ProjectionSteps(CodeWriter w, RecurrentLayerPlan p, Lanes l, int rows, string begin, string end)
    {
        w.Line($"int t = {begin};");
        if (rows > 1)
        {
            using (w.Block($"for (; t + {rows} <= {end}; t += {rows})"))
            {
                ProjectionTile(w, p, l, rows);
            }
        }

        using (w.Block($"for (; t < {end}; t++)"))
        {
            ProjectionTile(w, p, l, 1);
        }
    }

    private static void ProjectionPrologue(CodeWriter w, RecurrentLayerPlan p)
    {
        w.Line($"float* weights = packed + {p.PackedInput}; // [{p.Groups}][{p.InputSize}][{p.Gates}][16]");
        if (p.PackedBias >= 0)
        {
            w.Line($"float* bias = packed + {p.PackedBias}; // [{p.Groups}][{p.Gates}][16]");
        }
    }

    private static void ProjectionTile(CodeWriter w, RecurrentLayerPlan p, Lanes l, int rows)
    {
        int g = p.Gates, gate16 = g * 16;
        w.Line($"float* wk = weights + (ln0 >> 4) * {p.InputSize * gate16} + (ln0 & 15);");
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, g).Select(q => $"a{r}_{q} = {(p.PackedBias >= 0 ? l.Load($"bias + (ln0 >> 4) * {gate16} + (ln0 & 15) + {q * 16}") : l.Zero)}"))};");
        }

        using (w.Block($"for (int k = 0; k < {p.InputSize}; k++, wk += {gate16})"))
        {
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, g).Select(q => $"w{q} = {l.Load($"wk + {q * 16}")}"))};");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"{l.T} x{r} = {l.Broadcast($"x[(t + {r}) * {p.InputRowStride} + k]")};");
                for (int q = 0; q < g; q++)
                {
                    w.Line($"a{r}_{q} = {l.Fma($"x{r}", $"w{q}", $"a{r}_{q}")};");
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int q = 0; q < g; q++)
            {
                w.Line(l.Store($"a{r}_{q}", $"gates + (t + {r}) * {p.GateRow} + go0 + {q * 16}"));
            }
        }
    }

    public static void EmitSteps(CodeWriter w, RecurrentStepsPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        var (main, tail) = k.Tiling.ByWidth[v.Width];
        int units = p.HiddenPadded / l.N;
        w.Line($"// {k.Comment}");
        w.Line($"// {v.Suffix}: tiles of {main.Rows} sample(s) x {main.Units} unit(s), the last samples {tail.Rows} x {tail.Units}; a unit is {l.N} hidden lanes with its {p.Gates} gates");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{ForwardSignature}"))
        {
            w.Line($"float* weights = packed + {p.PackedRecurrent}; // [{p.Groups}][{p.Hidden}][{p.Gates}][16]");
            if (p.PackedRecurrentBias >= 0)
            {
                w.Line($"float* recurrentBias = packed + {p.PackedRecurrentBias}; // b_hn [{p.HiddenPadded}]");
            }

            InitialStates(w, k, stride);
            if (!k.InStack && PipelinesBatchOne(p, l, k.Tiling, units))
            {
                using (w.Block("if (batch == 1)"))
                {
                    BatchOneSteps(w, [k], l, k.Tiling.BatchOne[v.Width], units, projections: []);
                    w.Line("return;");
                }
            }

            using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
            {
                SampleTiles(w, k.Tiling.ByWidth[v.Width], k.Tiling.RemaindersAt(v.Width), units, (rows, u) => StepTile(w, k, l, rows, u, stride));
            }
        }

        w.Line();
        if (k.EmitsCell)
        {
            EmitCell(w, k, l);
        }
    }

    /// <summary>
    /// The cell of one unit of a step tile (batches above 1), a method of its own: inlined, its constants would
    /// be hoisted into registers for the whole kernel, and the tile's sums spill around them in the k loop.
    /// </summary>
    private static void EmitCell(CodeWriter w, RecurrentStepsPlan k, Lanes l)
    {
        RecurrentLayerPlan p = k.Layer;
        w.Line($"// {p.Layer}: the cell of one unit of a step tile, from the sums in its gate row (every layer's step tiles call it once the sums are stored)");
        w.Line(CellHeader);
        using (w.Block($"private static unsafe void {k.CellName}_{l.Suffix}(float* gates, {(p.IsLstm ? "float* cellsRow, " : "")}float* statesRow, int ln)"))
        {
            CellUpdate(w, p, l, "one unit", "gates", p.IsLstm ? "cellsRow" : "", "statesRow", "ln");
        }

        w.Line();
    }

    /// <summary>The given initial states (if any) go to slot 0 of the layer's states and cells.</summary>
    private static void InitialStates(CodeWriter w, RecurrentStepsPlan k, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        if (k.InitialH < 0)
        {
            return;
        }

        w.Line($"// The given initial states of {p.Label} go to slot 0 (the padding lanes stay zero).");
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* sample = arena + s * {stride};");
            w.Line($"new global::System.ReadOnlySpan<float>(sample + {k.InitialH + p.Index * p.Hidden}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {p.StatesOffset}, {p.Hidden}));");
            if (k.InitialC >= 0)
            {
                w.Line($"new global::System.ReadOnlySpan<float>(sample + {k.InitialC + p.Index * p.Hidden}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {p.CellsOffset}, {p.Hidden}));");
            }
        }
    }

    /// <summary>
    /// The stacked layers (<see cref="RecurrentLayersPlan"/>): their step kernels and input projections as methods
    /// of their own, which batches above 1 call layer after layer, and the kernel that runs them; at batch 1 it
    /// interleaves the layers step by step.
    /// </summary>
    public static void EmitLayers(CodeWriter w, RecurrentLayersPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan bottom = k.Steps[0].Layer;
        var l = new Lanes(v);
        RecurrentTiles tiling = k.Steps[0].Tiling;
        int units = bottom.HiddenPadded / l.N;
        bool wavefront = PipelinesBatchOne(bottom, l, tiling, units);
        for (int i = 0; i < k.Steps.Count; i++)
        {
            if (i > 0)
            {
                EmitProjection(w, k.Projections[i - 1], v, stride);
                if (wavefront)
                {
                    EmitProjectionRows(w, k.Projections[i - 1], v);
                }
            }

            EmitSteps(w, k.Steps[i], v, stride);
        }

        w.Line($"// {k.Comment}");
        w.Line(wavefront
            ? $"// {v.Suffix}: batch 1 interleaves the layers, {RecurrentLayersPlan.Lag} steps apart; other batches run them one after the other"
            : $"// {v.Suffix}: the layers one after the other");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{ForwardSignature}"))
        {
            if (wavefront)
            {
                using (w.Block("if (batch == 1)"))
                {
                    foreach (RecurrentStepsPlan steps in k.Steps)
                    {
                        InitialStates(w, steps, stride);
                    }

                    BatchOneSteps(w, k.Steps, l, tiling.BatchOne[v.Width], units, k.Projections);
                    w.Line("return;");
                }
            }

            for (int i = 0; i < k.Steps.Count; i++)
            {
                if (i > 0)
                {
                    w.Line($"{k.Projections[i - 1].Name}_{v.Suffix}(arena, parameters, packed, batch);");
                }

                w.Line($"{k.Steps[i].Name}_{v.Suffix}(arena, parameters, packed, batch);");
            }
        }

        w.Line();
    }

    /// <summary>The input projection of steps t0 to t1 - 1 of sample 0: the batch-1 wavefront projects a few steps at a time.</summary>
    private static void EmitProjectionRows(CodeWriter w, RecurrentProjectionPlan k, VectorSyntax v)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        var (main, _) = k.Tiling.ByWidth[v.Width];
        w.Line($"// {p.Label}: the input projection of steps t0 to t1 - 1 of a batch of 1 (the batch-1 wavefront calls it a few steps at a time)");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}Rows_{v.Suffix}(float* arena, float* packed, int t0, int t1)"))
        {
            ProjectionPrologue(w, p);
            UnitLoop(w, p.HiddenPadded / l.N, 1, _ =>
            {
                UnitOffsets(w, l, 1);
                w.Line($"float* x = arena + {p.InputOffset}; // [{p.Steps}][{p.InputSize}], rows {p.InputRowStride} apart");
                w.Line($"float* gates = arena + {p.GatesOffset}; // [{p.Steps}][{p.Groups}][4][16]");
                ProjectionSteps(w, p, l, main.Rows, "t0", "t1");
            });
        }

        w.Line();
    }

    /// <summary>
    /// Whether batch 1 gets its own software-pipelined loop (<see cref="BatchOneSteps"/>): vector widths whose
    /// single-sample tile divides the units into at least tile + 1 chunks of k (so that a pending tile's cell
    /// updates all fit before its own chunk), with no padding lanes.
    /// </summary>
    private static bool PipelinesBatchOne(RecurrentLayerPlan p, Lanes l, RecurrentTiles tiling, int units) =>
        tiling.BatchOne.TryGetValue(l.Width, out BatchOneTile? tile) && p.Hidden == p.HiddenPadded
        && units % tile.Units == 0 && units / tile.Units >= tile.Units + 1 && tile.Units * l.N % tile.KSplit == 0;

    /// <summary>
    /// Batch 1: the step is a matrix-vector product that streams the recurrent weights from L2, and the cell
    /// (a few exp per lane) of the last tile stalls that stream unless it runs beside it. So each tile's cell
    /// updates are deferred into the next tile's k loop, one unit after each of its first chunks of k (a chunk
    /// is the k of one tile's hidden lanes); a step that reads the h the pending updates write reads that chunk
    /// last. The sums of each gate are those of the other paths, added in a rotated order of chunks (and, with a
    /// k split, as interleaved partial sums). With several <paramref name="layers"/> (a stack), the steps of the layers interleave as a wavefront:
    /// layer l runs <see cref="RecurrentLayersPlan.Lag"/> steps behind layer l - 1 and projects its input that
    /// many steps at a time (<paramref name="projections"/>, layers 1 and up), so that the passes over the
    /// recurrent weights alternate between layers. The next tile is then often another layer's, and the
    /// pending cell updates run beside it just the same.
    /// </summary>
    private static void BatchOneSteps(CodeWriter w, System.Collections.Generic.IReadOnlyList<RecurrentStepsPlan> layers, Lanes l, BatchOneTile tile, int total, System.Collections.Generic.IReadOnlyList<RecurrentProjectionPlan> projections)
    {
        RecurrentLayerPlan p = layers[0].Layer;
        int units = tile.Units, hp = p.HiddenPadded, chunks = total / units, chunk = units * l.N, lag = RecurrentLayersPlan.Lag;
        bool hasCells = p.CellsOffset >= 0, hasRecurrentBias = p.PackedRecurrentBias >= 0;
        w.Line($"// Batch 1: tiles of {units} unit{(units > 1 ? "s" : "")} over {chunks} chunks of {chunk} k{(tile.KSplit > 1 ? $", each k {tile.KSplit} ways into separate sums" : "")}. A tile's cell updates are deferred into the next tile's k loop");
        w.Line(units == 1
            ? "// (after its first chunk), so that the nonlinearities overlap the weight stream instead of stalling it."
            : $"// (one unit after each of its first {units} chunks), so that the nonlinearities overlap the weight stream instead of stalling it.");
        w.Line($"int pu = -1; // first unit of the tile whose cell updates are pending (-1: none)");
        w.Line($"float* pg = null, ph = null{(hasCells ? ", pc = null" : "")}; // its gate row, and the states{(hasCells ? " and cells" : "")} of its step");
        if (layers.Count == 1)
        {
            // weights (and recurrentBias) are the step kernel's
            w.Line($"float* stateRows = arena + {p.StatesOffset}, gateRows = arena + {p.GatesOffset}{(hasCells ? $", cellRows = arena + {p.CellsOffset}" : "")}; // [{p.Steps + 1}][{hp}], [{p.Steps}][{p.GateRow}]{(hasCells ? $", [{p.Steps + 1}][{hp}]" : "")}");
            using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
            {
                BatchOneStep(w, p, l, tile, total);
            }
        }
        else
        {
            string Table(Func<RecurrentLayerPlan, string> where) => $"stackalloc float*[] {{ {string.Join(", ", layers.Select(k => where(k.Layer)))} }}";
            w.Line($"// The {layers.Count} layers share their shapes; only where their weights and states lie differs.");
            w.Line($"float** weightsOf = {Table(q => $"packed + {q.PackedRecurrent}")};");
            if (hasRecurrentBias)
            {
                w.Line($"float** recurrentBiasOf = {Table(q => $"packed + {q.PackedRecurrentBias}")};");
            }

            w.Line($"float** stateRowsOf = {Table(q => $"arena + {q.StatesOffset}")};");
            w.Line($"float** gateRowsOf = {Table(q => $"arena + {q.GatesOffset}")};");
            if (hasCells)
            {
                w.Line($"float** cellRowsOf = {Table(q => $"arena + {q.CellsOffset}")};");
            }

            using (w.Block($"for (int slot = 0; slot < {p.Steps + (layers.Count - 1) * lag}; slot++)"))
            {
                using (w.Block($"for (int layer = 0; layer < {layers.Count}; layer++)"))
                {
                    w.Line($"int t = slot - layer * {lag}; // each layer runs {lag} steps behind the one below");
                    using (w.Block($"if ((uint)t >= {p.Steps})"))
                    {
                        w.Line("continue;");
                    }

                    using (w.Block($"if (layer > 0 && t % {lag} == 0)"))
                    {
                        w.Line($"// The layer below has computed this layer's input for steps t to t + {lag - 1}: project it (after the pending cell updates, which may write it).");
                        FlushPending(w, p, l, units);
                        using (w.Block("switch (layer)"))
                        {
                            for (int i = 1; i < layers.Count; i++)
                            {
                                w.Line($"case {i}: {projections[i - 1].Name}Rows_{l.Suffix}(arena, packed, t, global::System.Math.Min(t + {lag}, {p.Steps})); break;");
                            }
                        }
                    }

                    w.Line($"float* weights = weightsOf[layer], stateRows = stateRowsOf[layer], gateRows = gateRowsOf[layer]{(hasCells ? ", cellRows = cellRowsOf[layer]" : "")};");
                    if (hasRecurrentBias)
                    {
                        w.Line("float* recurrentBias = recurrentBiasOf[layer];");
                    }

                    BatchOneStep(w, p, l, tile, total);
                }
            }
        }

        w.Line("// The last tile's cell updates.");
        FlushPending(w, p, l, units);
    }

    /// <summary>One step t of one layer at batch 1, over the layer's <c>weights</c>, <c>stateRows</c>, <c>gateRows</c> (and <c>cellRows</c>).</summary>
    private static void BatchOneStep(CodeWriter w, RecurrentLayerPlan p, Lanes l, BatchOneTile tile, int total)
    {
        int units = tile.Units, split = tile.KSplit, g = p.Gates, gate16 = g * 16, hp = p.HiddenPadded, chunks = total / units, chunk = units * l.N;
        w.Line($"float* hp0 = stateRows + t * {hp}, gt0 = gateRows + t * {p.GateRow}; // h_(t-1), gates of step t");
        using (w.Block($"for (int uu = 0; uu < {total}; uu += {units})"))
        {
            w.Line($"int u = (t & 1) == 0 ? uu : {total - units} - uu; // odd steps walk the units backwards (the last weights read are still in L1)");
            UnitOffsets(w, l, units);
            for (int j = 0; j < split; j++)
            {
                for (int i = 0; i < units; i++)
                {
                    w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, g).Select(q => $"a{j}_{i}_{q} = {(j == 0 ? StepStart(p, l, 0, i, q) : l.Zero)}"))};{(j == 1 && i == 0 ? " // the sums of odd k" : "")}");
                }
            }

            w.Line($"int c0 = pu >= 0 && ph + {hp} == hp0 ? {(units == 1 ? "pu" : $"pu / {units}")} + 1 : 0; // the chunk of h_(t-1) that the pending updates write is read last");
            using (w.Block($"for (int ci = 0; ci < {chunks}; ci++)"))
            {
                w.Line($"int kc = (c0 + ci) % {chunks} * {chunk}; // first k of the chunk");
                for (int i = 0; i < units; i++)
                {
                    w.Line($"float* wk{i} = weights + (ln{i} >> 4) * {p.Hidden * gate16} + (ln{i} & 15) + kc * {gate16};");
                }

                using (w.Block($"for (int k = kc; k < kc + {chunk}; k{(split == 1 ? "++" : $" += {split}")})"))
                {
                    for (int j = 0; j < split; j++)
                    {
                        w.Line($"{l.T} h{j} = {l.Broadcast(j == 0 ? "hp0[k]" : $"hp0[k + {j}]")};");
                        for (int i = 0; i < units; i++)
                        {
                            for (int q = 0; q < g; q++)
                            {
                                w.Line($"a{j}_{i}_{q} = {l.Fma($"h{j}", l.Load($"wk{i} + {j * gate16 + q * 16}"), $"a{j}_{i}_{q}")};");
                            }
                        }
                    }

                    w.Line(string.Join(" ", Enumerable.Range(0, units).Select(i => $"wk{i} += {split * gate16};")));
                }

                using (w.Block(units == 1 ? "if (pu >= 0 && ci == 0)" : $"if (pu >= 0 && ci < {units})"))
                {
                    PendingCellUpdate(w, p, l, units == 1 ? null : "ci");
                }
            }

            for (int i = 0; i < units; i++)
            {
                string Sum(int q) => string.Join(" + ", Enumerable.Range(0, split).Select(j => $"a{j}_{i}_{q}"));
                w.Line(string.Join(" ", Enumerable.Range(0, g).Select(q => l.Store(Sum(q), $"gt0 + go{i} + {(!p.IsLstm && q == 2 ? 48 : q * 16)}"))));
            }

            w.Line($"pu = u; pg = gt0; ph = hp0;{(p.CellsOffset >= 0 ? $" pc = cellRows + t * {hp};" : "")}");
        }
    }

    /// <summary>Runs the pending tile's cell updates now (if one is pending).</summary>
    private static void FlushPending(CodeWriter w, RecurrentLayerPlan p, Lanes l, int units)
    {
        using (w.Block("if (pu >= 0)"))
        {
            if (units == 1)
            {
                PendingCellUpdate(w, p, l, null);
            }
            else
            {
                using (w.Block($"for (int ci = 0; ci < {units}; ci++)"))
                {
                    PendingCellUpdate(w, p, l, "ci");
                }
            }

            w.Line("pu = -1;");
        }
    }

    /// <summary>The cell update of unit pu + <paramref name="index"/> of the pending tile (batch 1).</summary>
    private static void PendingCellUpdate(CodeWriter w, RecurrentLayerPlan p, Lanes l, string? index)
    {
        w.Line($"int ln = {(index is null ? "pu" : $"(pu + {index})")} * {l.N}, go = (ln >> 4) * 64 + (ln & 15);");
        CellUpdate(w, p, l, "pending unit", "pg + go", p.CellsOffset >= 0 ? "pc" : "", "ph", "ln");
    }

    private static void StepTile(CodeWriter w, RecurrentStepsPlan k, Lanes l, int rows, int units, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        int g = p.Gates, gate16 = g * 16, hp = p.HiddenPadded;
        UnitOffsets(w, l, units);
        for (int r = 0; r < rows; r++)
        {
            w.Line($"float* sm{r} = arena + (s + {r}) * {stride}, hp{r} = sm{r} + {p.StatesOffset} + t * {hp}, gt{r} = sm{r} + {p.GatesOffset} + t * {p.GateRow}; // h_(t-1), gates of step t");
        }

        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < units; i++)
            {
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, g).Select(q => $"a{r}_{i}_{q} = {StepStart(p, l, r, i, q)}"))};");
            }
        }

        for (int i = 0; i < units; i++)
        {
            w.Line($"float* wk{i} = weights + (ln{i} >> 4) * {p.Hidden * gate16} + (ln{i} & 15);");
        }

        using (w.Block($"for (int k = 0; k < {p.Hidden}; k++)"))
        {
            for (int i = 0; i < units; i++)
            {
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, g).Select(q => $"w{i}_{q} = {l.Load($"wk{i} + {q * 16}")}"))};");
            }

            for (int r = 0; r < rows; r++)
            {
                w.Line($"{l.T} h{r} = {l.Broadcast($"hp{r}[k]")};");
                for (int i = 0; i < units; i++)
                {
                    for (int q = 0; q < g; q++)
                    {
                        w.Line($"a{r}_{i}_{q} = {l.Fma($"h{r}", $"w{i}_{q}", $"a{r}_{i}_{q}")};");
                    }
                }
            }

            w.Line(string.Join(" ", Enumerable.Range(0, units).Select(i => $"wk{i} += {gate16};")));
        }

        // The sums go back to the gate rows before any nonlinearity: the nonlinearities call the runtime's
        // exp, and sums live across calls would be kept on the stack inside the loop above.
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < units; i++)
            {
                w.Line(string.Join(" ", Enumerable.Range(0, g).Select(q => l.Store($"a{r}_{i}_{q}", $"gt{r} + go{i} + {(!p.IsLstm && q == 2 ? 48 : q * 16)}"))));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < units; i++)
            {
                w.Line($"{k.CellName}_{l.Suffix}(gt{r} + go{i}, {(p.IsLstm ? $"sm{r} + {p.CellsOffset} + t * {hp}, " : "")}hp{r}, ln{i}); // sample {r}, unit {i}");
            }
        }
    }

    /// <summary>
    /// The cell of one unit (first hidden lane <paramref name="ln"/>) after its sums are in the gate row
    /// <paramref name="gates"/>: the states (and cells) of its step, at <paramref name="statesRow"/> (and
    /// <paramref name="cellsRow"/>), give those of the next step, one row further.
    /// </summary>
    private static void CellUpdate(CodeWriter w, RecurrentLayerPlan p, Lanes l, string what, string gates, string cellsRow, string statesRow, string ln)
    {
        int hp = p.HiddenPadded;
        w.Line(p.IsLstm
            ? $"// {what}: c = f c + i g, h = o tanh(c); the activated gates are kept for backward"
            : $"// {what}: n = tanh(x_n + r (W_hn h + b_hn)), h = n + z (h - n); r, z, n and W_hn h + b_hn are kept for backward");
        using (w.Scope())
        {
            if (gates != "gates")
            {
                w.Line($"float* gates = {gates};");
            }
            if (p.IsLstm)
            {
                w.Line($"{l.T} ig = {Lanes.Sigmoid(l.Load("gates"))}, fg = {Lanes.Sigmoid(l.Load("gates + 16"))}, gg = {Lanes.Tanh(l.Load("gates + 32"))}, og = {Lanes.Sigmoid(l.Load("gates + 48"))};");
                w.Line($"{l.T} c = fg * {l.Load($"{cellsRow} + {ln}")} + ig * gg;");
                w.Line(l.Store("c", $"{cellsRow} + {hp} + {ln}"));
                w.Line(l.Store($"og * {Lanes.Tanh("c")}", $"{statesRow} + {hp} + {ln}"));
                w.Line($"{l.Store("ig", "gates")} {l.Store("fg", "gates + 16")} {l.Store("gg", "gates + 32")} {l.Store("og", "gates + 48")}");
            }
            else
            {
                w.Line($"{l.T} rg = {Lanes.Sigmoid(l.Load("gates"))}, zg = {Lanes.Sigmoid(l.Load("gates + 16"))};");
                w.Line($"{l.T} ng = {Lanes.Tanh($"{l.Load("gates + 32")} + rg * {l.Load("gates + 48")}")};");
                w.Line($"{l.T} hprev = {l.Load($"{statesRow} + {ln}")};");
                w.Line(l.Store("ng + zg * (hprev - ng)", $"{statesRow} + {hp} + {ln}"));
                w.Line($"{l.Store("rg", "gates")} {l.Store("zg", "gates + 16")} {l.Store("ng", "gates + 32")}");
            }
        }
    }

    /// <summary>The accumulator's start: the projected gate (bias included); a GRU's recurrent n starts at b_hn.</summary>
    private static string StepStart(RecurrentLayerPlan p, Lanes l, int r, int i, int q) =>
        !p.IsLstm && q == 2
            ? p.PackedRecurrentBias >= 0 ? l.Load($"recurrentBias + ln{i}") : l.Zero
            : l.Load($"gt{r} + go{i} + {q * 16}");

    public static void EmitOutput(CodeWriter w, RecurrentOutputPlan k, string stride)
    {
        RecurrentLayerPlan p = k.Top;
        w.Line($"// {k.Comment}");
        using (w.Block($"internal static unsafe void {k.Name}{ForwardSignature}"))
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* sample = arena + s * {stride};");
            using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
            {
                w.Line($"new global::System.ReadOnlySpan<float>(sample + {p.StatesOffset} + (t + 1) * {p.HiddenPadded}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {k.Output.Offset} + t * {p.Hidden}, {p.Hidden}));");
            }
        }

        w.Line();
    }

    public static void EmitState(CodeWriter w, RecurrentStatePlan k, string stride)
    {
        w.Line($"// {k.Comment}");
        using (w.Block($"internal static unsafe void {k.Name}{ForwardSignature}"))
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* sample = arena + s * {stride};");
            foreach (RecurrentLayerPlan p in k.Layers)
            {
                int source = (k.Cells ? p.CellsOffset : p.StatesOffset) + p.Steps * p.HiddenPadded;
                w.Line($"new global::System.ReadOnlySpan<float>(sample + {source}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {k.Output.Offset + p.Index * p.Hidden}, {p.Hidden})); // layer {p.Index}");
            }
        }

        w.Line();
    }

    public static void EmitSelect(CodeWriter w, SelectPlan k, string stride)
    {
        w.Line($"// {k.Comment}");
        using (w.Block($"internal static unsafe void {k.Name}{ForwardSignature}"))
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* x = arena + s * {stride} + {k.Input.Offset}, y = arena + s * {stride} + {k.Output.Offset};");
            using (w.Block($"for (int o = 0; o < {k.Outer}; o++)"))
            {
                w.Line($"new global::System.ReadOnlySpan<float>(x + (o * {k.Extent} + {k.Index}) * {k.Inner}, {k.Inner}).CopyTo(new global::System.Span<float>(y + o * {k.Inner}, {k.Inner}));");
            }
        }

        w.Line();
    }

    // ---------------------------------------------------------------- backward

    public static void EmitSelectGrad(CodeWriter w, SelectGradPlan k, string stride)
    {
        SelectPlan f = k.Forward;
        w.Line($"// {k.Comment}");
        using (w.Block($"internal static unsafe void {k.Name}{GradientEmitter.Signature}"))
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* dy = arena + s * {stride} + {k.GradOutput.Offset}, dx = arena + s * {stride} + {k.GradInput.Offset};");
            if (!k.Accumulate)
            {
                w.Line($"new global::System.Span<float>(dx, {f.Outer * f.Extent * f.Inner}).Clear(); // only the selected index has a gradient");
            }

            using (w.Block($"for (int o = 0; o < {f.Outer}; o++)"))
            using (w.Block($"for (int i = 0; i < {f.Inner}; i++)"))
            {
                w.Line($"dx[(o * {f.Extent} + {f.Index}) * {f.Inner} + i] += dy[o * {f.Inner} + i];");
            }
        }

        w.Line();
    }

    public static void EmitGradIn(CodeWriter w, RecurrentGradInPlan k, string stride)
    {
        RecurrentLayerPlan p = k.Top;
        w.Line($"// {k.Comment}");
        using (w.Block($"internal static unsafe void {k.Name}{GradientEmitter.Signature}"))
        using (w.Block("for (int s = 0; s < batch; s++)"))
        {
            w.Line($"float* sample = arena + s * {stride};");
            using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
            {
                w.Line($"new global::System.ReadOnlySpan<float>(sample + {k.GradOutput.Offset} + t * {p.Hidden}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {p.StateGradsOffset} + t * {p.HiddenPadded}, {p.Hidden}));");
            }
        }

        w.Line();
    }

    public static void EmitStepsGrad(CodeWriter w, RecurrentStepsGradPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        var (main, tail) = k.Tiling.ByWidth[v.Width];
        int units = p.HiddenPadded / l.N, hp = p.HiddenPadded;
        w.Line($"// {k.Comment}");
        w.Line($"// {v.Suffix}: tiles of {main.Rows} sample(s) x {main.Units} unit(s), the last samples {tail.Rows} x {tail.Units}; a unit is {l.N} hidden lanes");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{GradientEmitter.Signature}"))
        {
            w.Line($"float* weights = packed + {p.PackedRecurrentRows}; // [{p.Groups}][{p.Gates}][16][{hp}]: weight_hh rows in gate-slot order");
            w.Line(p.IsLstm
                ? "// The carried gradient (dc) starts at zero or at dc_n; dh_n adds to the last step's gradient."
                : "// The carried gradient (z dh) starts at zero; dh_n adds to the last step's gradient.");
            using (w.Block("for (int s = 0; s < batch; s++)"))
            {
                w.Line($"float* sample = arena + s * {stride};");
                w.Line($"new global::System.Span<float>(sample + {p.CarryOffset}, {hp}).Clear();");
                if (k.FinalCGrad >= 0)
                {
                    w.Line($"new global::System.ReadOnlySpan<float>(sample + {k.FinalCGrad + p.Index * p.Hidden}, {p.Hidden}).CopyTo(new global::System.Span<float>(sample + {p.CarryOffset}, {p.Hidden}));");
                }

                if (k.FinalHGrad >= 0)
                {
                    using (w.Block($"for (int j = 0; j < {p.Hidden}; j++)"))
                    {
                        w.Line($"sample[{p.StateGradsOffset + (p.Steps - 1) * hp} + j] += sample[{k.FinalHGrad + p.Index * p.Hidden} + j];");
                    }
                }
            }

            using (w.Block($"for (int t = {p.Steps - 1}; t >= 0; t--)"))
            {
                SampleTiles(w, k.Tiling.ByWidth[v.Width], k.Tiling.RemaindersAt(v.Width), units, (rows, u) => StepGradTile(w, k, l, rows, u, stride));
            }

            if (k.InitialHGrad >= 0)
            {
                string assignH = k.AccumulateInitialH ? "+=" : "=", assignC = k.AccumulateInitialC ? "+=" : "=";
                w.Line(p.IsLstm
                    ? "// The given initial states' gradients: dh0 = dZ_0 x weight_hh, dc0 = the carried dc (step 0's gradients serve as scratch)."
                    : "// The given initial state's gradient: dh0 = dZ_0 x weight_hh + the carried z dh (step 0's gradients serve as scratch).");
                using (w.Block("for (int s = 0; s < batch; s++)"))
                {
                    w.Line($"float* sm0 = arena + s * {stride}, zn0 = sm0 + {p.GateGradsOffset};");
                    UnitLoop(w, units, tail.Units, u =>
                    {
                        UnitOffsets(w, l, u);
                        TransposedProduct(w, p, l, 1, u);
                        for (int i = 0; i < u; i++)
                        {
                            string value = p.IsLstm ? $"d0_{i}" : $"d0_{i} + {l.Load($"sm0 + {p.CarryOffset} + ln{i}")}";
                            w.Line(l.Store(value, $"sm0 + {p.StateGradsOffset} + ln{i}"));
                        }
                    });
                    using (w.Block($"for (int j = 0; j < {p.Hidden}; j++)"))
                    {
                        w.Line($"sm0[{k.InitialHGrad + p.Index * p.Hidden} + j] {assignH} sm0[{p.StateGradsOffset} + j];");
                        if (k.InitialCGrad >= 0)
                        {
                            w.Line($"sm0[{k.InitialCGrad + p.Index * p.Hidden} + j] {assignC} sm0[{p.CarryOffset} + j];");
                        }
                    }
                }
            }
        }

        w.Line();
        if (k.EmitsCell)
        {
            EmitCellGrad(w, k, l);
        }
    }

    /// <summary>
    /// The gate derivatives of one unit of a backward step tile, a method of its own (as the forward's cell): inlined
    /// into the step kernel, an LSTM's tanh took registers for the whole kernel with its constants, and the kernel
    /// outgrew the JIT's inlining budget, which left the loads and stores of its last tiles as calls.
    /// </summary>
    private static void EmitCellGrad(CodeWriter w, RecurrentStepsGradPlan k, Lanes l)
    {
        RecurrentLayerPlan p = k.Layer;
        int hp = p.HiddenPadded;
        w.Line(p.IsLstm
            ? $"// {p.Layer}: one unit's gate derivatives at step t (every layer's). dc = carry + dh o (1 - tanh^2 c); dZ = (dc g, dc c_(t-1), dc i, dh tanh c) times each gate's derivative"
            : $"// {p.Layer}: one unit's gate derivatives at step t (every layer's). dn = dh (1 - z)(1 - n^2); dZ = (dn hn r', dh (h - n) z', dn r, dn); carry z dh");
        w.Line($"// gates, dz: the unit's activated gates and gate gradients; carry: its carried gradient; dh: its state gradient; {(p.IsLstm ? "cells: c_(t-1), c_t one row further" : "states: h_(t-1)")}");
        w.Line(CellHeader);
        using (w.Block($"private static unsafe void {k.CellName}_{l.Suffix}(float* gates, float* dz, float* carry, float* dhAt, float* {(p.IsLstm ? "cells" : "states")})"))
        {
            w.Line($"{l.T} dh = {l.Load("dhAt")};");
            if (p.IsLstm)
            {
                w.Line($"{l.T} ig = {l.Load("gates")}, fg = {l.Load("gates + 16")}, gg = {l.Load("gates + 32")}, og = {l.Load("gates + 48")};");
                w.Line($"{l.T} tc = {Lanes.Tanh(l.Load($"cells + {hp}"))};");
                w.Line($"{l.T} dc = {l.Load("carry")} + dh * og * ({l.One} - tc * tc);");
                w.Line(l.Store("dc * fg", "carry"));
                w.Line(l.Store($"dc * gg * ig * ({l.One} - ig)", "dz"));
                w.Line(l.Store($"dc * {l.Load("cells")} * fg * ({l.One} - fg)", "dz + 16"));
                w.Line(l.Store($"dc * ig * ({l.One} - gg * gg)", "dz + 32"));
                w.Line(l.Store($"dh * tc * og * ({l.One} - og)", "dz + 48"));
            }
            else
            {
                w.Line($"{l.T} rg = {l.Load("gates")}, zg = {l.Load("gates + 16")}, ng = {l.Load("gates + 32")}, hn = {l.Load("gates + 48")};");
                w.Line($"dh += {l.Load("carry")};");
                w.Line($"{l.T} hprev = {l.Load("states")};");
                w.Line(l.Store("dh * zg", "carry"));
                w.Line($"{l.T} dn = dh * ({l.One} - zg) * ({l.One} - ng * ng);");
                w.Line(l.Store($"dn * hn * rg * ({l.One} - rg)", "dz"));
                w.Line(l.Store($"dh * (hprev - ng) * zg * ({l.One} - zg)", "dz + 16"));
                w.Line(l.Store("dn * rg", "dz + 32"));
                w.Line(l.Store("dn", "dz + 48"));
            }
        }

        w.Line();
    }

    /// <summary>d{r}_{i} = the gate gradients of zn{r} times weight_hh, for the lanes of unit i (zn{r} points at a step's gate gradients).</summary>
    private static void TransposedProduct(CodeWriter w, RecurrentLayerPlan p, Lanes l, int rows, int units)
    {
        int hp = p.HiddenPadded, rowsPerGroup = p.Gates * 16;
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, units).Select(i => $"d{r}_{i} = {l.Zero}"))};");
        }

        using (w.Block($"for (int grp = 0; grp < {p.Groups}; grp++)"))
        {
            w.Line($"float* wg = weights + grp * {rowsPerGroup * hp};");
            using (w.Block($"for (int q = 0; q < {rowsPerGroup}; q++, wg += {hp})"))
            {
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, units).Select(i => $"w{i} = {l.Load($"wg + ln{i}")}"))};");
                for (int r = 0; r < rows; r++)
                {
                    w.Line($"{l.T} z{r} = {l.Broadcast($"zn{r}[grp * 64 + q]")};");
                    for (int i = 0; i < units; i++)
                    {
                        w.Line($"d{r}_{i} = {l.Fma($"z{r}", $"w{i}", $"d{r}_{i}")};");
                    }
                }
            }
        }
    }

    private static void StepGradTile(CodeWriter w, RecurrentStepsGradPlan k, Lanes l, int rows, int units, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        int hp = p.HiddenPadded;
        UnitOffsets(w, l, units);
        for (int r = 0; r < rows; r++)
        {
            w.Line($"float* sm{r} = arena + (s + {r}) * {stride}, zn{r} = sm{r} + {p.GateGradsOffset} + (t + 1) * {p.GateRow}; // step t + 1's gate gradients");
        }

        w.Line($"// dh from step t + 1 through weight_hh (none after the last step)");
        // The product adds to the step's gradient in memory before any call (the derivatives call the
        // runtime's tanh), so no sum lives across a call.
        using (w.Block($"if (t < {p.Steps - 1})"))
        {
            TransposedProduct(w, p, l, rows, units);
            for (int r = 0; r < rows; r++)
            {
                w.Line(string.Join(" ", Enumerable.Range(0, units).Select(i =>
                    l.Store($"{l.Load($"sm{r} + {p.StateGradsOffset} + t * {hp} + ln{i}")} + d{r}_{i}", $"sm{r} + {p.StateGradsOffset} + t * {hp} + ln{i}"))));
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < units; i++)
            {
                string stateAt = $"sm{r} + {(p.IsLstm ? p.CellsOffset : p.StatesOffset)} + t * {hp} + ln{i}";
                w.Line($"{k.CellName}_{l.Suffix}(sm{r} + {p.GatesOffset} + t * {p.GateRow} + go{i}, sm{r} + {p.GateGradsOffset} + t * {p.GateRow} + go{i}, sm{r} + {p.CarryOffset} + ln{i}, sm{r} + {p.StateGradsOffset} + t * {hp} + ln{i}, {stateAt}); // sample {r}, unit {i}");
            }
        }
    }

    public static void EmitWeightGrad(CodeWriter w, RecurrentWeightGradPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        w.Line($"// {k.Comment}");
        w.Line(Header);
        int block = Math.Max(1, 64 / p.Steps);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{GradientEmitter.Signature}"))
        {
            w.Line($"// Samples in blocks of {block} ({block * p.Steps} rows of dZ and x), so a block stays in L2 while every output tile");
            w.Line($"// passes over it; the first block {(k.Accumulate ? "adds to the earlier gradients" : "writes")}, the others add.");
            using (w.Block($"for (int s0 = 0; s0 < batch; s0 += {block})"))
            {
                w.Line($"int s1 = global::System.Math.Min(s0 + {block}, batch);");
                w.Line("bool first = s0 == 0;");
                w.Line($"// weight_ih_l{p.Index} [{p.Gates * p.Hidden}, {p.InputSize}]: dZ (input side) x x_t");
                GateWeightGrad(w, p, l, p.InputSize, $"sm + {p.InputOffset} + t * {p.InputRowStride}", p.WeightIh, Slot(p, "q"), k.Accumulate, stride, k.IhTailScratch);
                w.Line($"// weight_hh_l{p.Index} [{p.Gates * p.Hidden}, {p.Hidden}]: dZ (recurrent side) x h_(t-1)");
                GateWeightGrad(w, p, l, p.Hidden, $"sm + {p.StatesOffset} + t * {p.HiddenPadded}", p.WeightHh, "q", k.Accumulate, stride, k.HhTailScratch);
                if (p.BiasIh >= 0)
                {
                    w.Line($"// bias_ih_l{p.Index} and bias_hh_l{p.Index}: dZ summed over samples and steps, a vector of hidden lanes at a time");
                    GateBiasGrad(w, p, l, p.BiasIh, Slot(p, "q"), k.Accumulate, stride);
                    GateBiasGrad(w, p, l, p.BiasHh, "q", k.Accumulate, stride);
                }
            }

            TailScatter(w, p, l, p.InputSize, $"weight_ih_l{p.Index}", p.WeightIh, k.IhTailScratch, k.Accumulate);
            TailScatter(w, p, l, p.Hidden, $"weight_hh_l{p.Index}", p.WeightHh, k.HhTailScratch, k.Accumulate);
        }

        w.Line();
    }

    private static void GateWeightGrad(CodeWriter w, RecurrentLayerPlan p, Lanes l, int kd, string row, int dest, string slot, bool accumulate, string stride, int tailScratch)
    {
        int n = l.N;
        int vectorEnd = kd / n * n;
        int ck = Math.Max(1, Math.Min(vectorEnd / n, l.IsScalar ? 4 : n == 16 ? 4 : 2));
        // 512-bit: up to 16 sums per tile, so that a short k (one vector: layer 0's input of 28) still has 16 chains
        // of FMAs in flight instead of 4, which bound it by the FMA latency. Rows per tile divide 16 (see Rows).
        int rowsPerTile = l.IsScalar ? 1 : n == 16 ? (ck == 1 ? 16 : ck == 2 ? 8 : 4) : 2;
        int fullK = vectorEnd / (ck * n) * (ck * n);
        int fullJ = p.Hidden / rowsPerTile * rowsPerTile;
        // Narrower than a vector: the tail below does every column.
        if (vectorEnd > 0)
        {
            using var gates = w.Block($"for (int q = 0; q < {p.Gates}; q++)");
            w.Line($"int slot = {slot};");
            void Rows(int rows)
            {
                // rows j to j + rows - 1 lie in one group of 16 hidden lanes (rows divides 16), so their dZ entries are
                // consecutive: one index, and constant offsets from it (16 indices would not fit in the general registers)
                w.Line("int z0 = (j >> 4) * 64 + slot * 16 + (j & 15);");
                w.Line($"float* dst = grads + {dest} + (q * {p.Hidden} + j) * {kd};");
                if (fullK > 0)
                {
                    using (w.Block($"for (int k = 0; k < {fullK}; k += {ck * n})"))
                    {
                        WeightGradTile(w, p, l, rows, ck, kd, row, accumulate, stride);
                    }
                }

                for (int k0 = fullK; k0 < vectorEnd; k0 += n)
                {
                    using (w.Scope())
                    {
                        w.Line($"const int k = {k0};");
                        WeightGradTile(w, p, l, rows, 1, kd, row, accumulate, stride);
                    }
                }
            }

            if (fullJ > 0)
            {
                using (w.Block($"for (int j = 0; j < {fullJ}; j += {rowsPerTile})"))
                {
                    Rows(rowsPerTile);
                }
            }

            if (fullJ < p.Hidden)
            {
                using (w.Block($"for (int j = {fullJ}; j < {p.Hidden}; j++)"))
                {
                    Rows(1);
                }
            }
        }

        if (vectorEnd < kd)
        {
            GateWeightGradTail(w, p, l, kd, vectorEnd, row, slot, stride, tailScratch);
        }
    }

    /// <summary>
    /// The columns after the last whole vector of k: vectorized over the gate rows instead (a vector of
    /// hidden lanes of one gate, times one broadcast input value), a few vectors by a few columns at a time
    /// (4 x 4 sums with 512-bit vectors, 4 x 2 narrower), added up over the sample blocks in the tail scratch
    /// ([column][Gates x Hp], whole vectors), which <see cref="TailScatter"/> scatters into the [gates x H][K] rows once.
    /// </summary>
    private static void GateWeightGradTail(CodeWriter w, RecurrentLayerPlan p, Lanes l, int kd, int vectorEnd, string row, string slot, string stride, int tailScratch)
    {
        if (tailScratch < 0)
        {
            throw new InvalidOperationException($"{p.Label}: columns {vectorEnd} to {kd - 1} of a weight gradient have no tail scratch");
        }

        int perGate = p.HiddenPadded / l.N, total = p.Gates * perGate, tile = new[] { 4, 3, 2, 1 }.First(c => total % c == 0);
        int columns = Math.Min(kd - vectorEnd, l.N == 16 ? 4 : 2), fullEnd = vectorEnd + (kd - vectorEnd) / columns * columns;
        w.Line($"// columns {vectorEnd} to {kd - 1}: vectors of hidden lanes of one gate times broadcast x values, {tile} vector(s) by {columns} column(s) at a time");
        TailColumns(w, p, l, vectorEnd, vectorEnd, fullEnd, columns, tile, total, perGate, row, slot, stride, tailScratch);
        if (fullEnd < kd)
        {
            TailColumns(w, p, l, vectorEnd, fullEnd, kd, 1, tile, total, perGate, row, slot, stride, tailScratch);
        }
    }

    private static void TailColumns(CodeWriter w, RecurrentLayerPlan p, Lanes l, int vectorEnd, int begin, int end, int columns, int tile, int total, int perGate, string row, string slot, string stride, int tailScratch)
    {
        using (w.Block($"for (int k = {begin}; k < {end}; k += {columns})"))
        using (w.Block($"for (int gv = 0; gv < {total}; gv += {tile})"))
        {
            w.Line($"int {string.Join(", ", Enumerable.Range(0, tile).Select(c => $"q{c} = (gv + {c}) / {perGate}, j{c} = ((gv + {c}) % {perGate}) * {l.N}"))};");
            w.Line($"int {string.Join(", ", Enumerable.Range(0, tile).Select(c => $"z{c} = (j{c} >> 4) * 64 + {slot.Replace("q", $"q{c}")} * 16 + (j{c} & 15)"))};");
            for (int c = 0; c < tile; c++)
            {
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, columns).Select(m => $"a{c}_{m} = {l.Zero}"))};");
            }

            using (w.Block("for (int s = s0; s < s1; s++)"))
            using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
            {
                w.Line($"float* sm = arena + s * {stride}, x = {row}, zr = sm + {p.GateGradsOffset} + t * {p.GateRow};");
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, columns).Select(m => $"x{m} = {l.Broadcast(m == 0 ? "x[k]" : $"x[k + {m}]")}"))};");
                for (int c = 0; c < tile; c++)
                {
                    w.Line($"{l.T} zv{c} = {l.Load($"zr + z{c}")};");
                    for (int m = 0; m < columns; m++)
                    {
                        w.Line($"a{c}_{m} = {l.Fma($"x{m}", $"zv{c}", $"a{c}_{m}")};");
                    }
                }
            }

            // This block's sums, whole vectors into the tail scratch (the first block writes it).
            int columnFloats = p.Gates * p.HiddenPadded;
            w.Line($"float* tail = scratch + {tailScratch} + (k - {vectorEnd}) * {columnFloats} + gv * {l.N};");
            for (int c = 0; c < tile; c++)
            {
                w.Line(string.Join(" ", Enumerable.Range(0, columns).Select(m =>
                {
                    string address = $"tail + {m * columnFloats + c * l.N}";
                    return l.Store($"first ? a{c}_{m} : {l.Load(address)} + a{c}_{m}", address);
                })));
            }
        }
    }

    /// <summary>
    /// After the last sample block: the tail columns' sums, from the tail scratch ([column][Gates x Hp]) into the gradient's
    /// [gates x H][K] rows, once per call (each block scattering its own sums cost about 0.4 ms of the seed LSTM's
    /// layer-0 weight gradient at batch 64).
    /// </summary>
    private static void TailScatter(CodeWriter w, RecurrentLayerPlan p, Lanes l, int kd, string name, int dest, int tailScratch, bool accumulate)
    {
        int vectorEnd = kd / l.N * l.N;
        if (vectorEnd == kd)
        {
            return;
        }

        int columnFloats = p.Gates * p.HiddenPadded;
        w.Line($"// {name}, columns {vectorEnd} to {kd - 1}: the sums over every block, from the tail scratch into the [{p.Gates * p.Hidden}, {kd}] rows");
        using (w.Block($"for (int q = 0; q < {p.Gates}; q++)"))
        using (w.Block($"for (int j = 0; j < {p.Hidden}; j++)"))
        {
            w.Line($"float* at = grads + {dest} + (q * {p.Hidden} + j) * {kd} + {vectorEnd}, from = scratch + {tailScratch} + q * {p.HiddenPadded} + j;");
            for (int m = 0; m < kd - vectorEnd; m++)
            {
                string value = $"from[{m * columnFloats}]";
                w.Line(accumulate ? $"at[{m}] += {value};" : $"at[{m}] = {value};");
            }
        }
    }

    private static void WeightGradTile(CodeWriter w, RecurrentLayerPlan p, Lanes l, int rows, int vectors, int kd, string row, bool accumulate, string stride)
    {
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, vectors).Select(c => $"a{r}_{c} = {l.Zero}"))};");
        }

        using (w.Block("for (int s = s0; s < s1; s++)"))
        using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
        {
            w.Line($"float* sm = arena + s * {stride}, x = {row} + k, zr = sm + {p.GateGradsOffset} + t * {p.GateRow};");
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, vectors).Select(c => $"x{c} = {l.Load($"x + {c * l.N}")}"))};");
            for (int r = 0; r < rows; r++)
            {
                w.Line($"{l.T} z{r}v = {l.Broadcast(r == 0 ? "zr[z0]" : $"zr[z0 + {r}]")};");
                for (int c = 0; c < vectors; c++)
                {
                    w.Line($"a{r}_{c} = {l.Fma($"z{r}v", $"x{c}", $"a{r}_{c}")};");
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < vectors; c++)
            {
                string address = $"dst + {r * kd} + k + {c * l.N}";
                w.Line(l.Store(Sum(accumulate, l.Load(address), $"a{r}_{c}"), address));
            }
        }
    }

    private static void GateBiasGrad(CodeWriter w, RecurrentLayerPlan p, Lanes l, int dest, string slot, bool accumulate, string stride)
    {
        using (w.Block($"for (int q = 0; q < {p.Gates}; q++)"))
        {
            w.Line($"int slot = {slot};");
            using (w.Block($"for (int j = 0; j < {p.Hidden}; j += {l.N})"))
            {
                w.Line("int zo = (j >> 4) * 64 + slot * 16 + (j & 15);");
                w.Line($"{l.T} sum = {l.Zero};");
                using (w.Block("for (int s = s0; s < s1; s++)"))
                using (w.Block($"for (int t = 0; t < {p.Steps}; t++)"))
                {
                    w.Line($"sum += {l.Load($"arena + s * {stride} + {p.GateGradsOffset} + t * {p.GateRow} + zo")};");
                }

                if (l.IsScalar)
                {
                    w.Line($"grads[{dest} + q * {p.Hidden} + j] = {Sum(accumulate, $"grads[{dest} + q * {p.Hidden} + j]", "sum")};");
                }
                else if (p.Hidden % l.N == 0)
                {
                    string address = $"grads + {dest} + q * {p.Hidden} + j";
                    w.Line(l.Store(Sum(accumulate, l.Load(address), "sum"), address));
                }
                else
                {
                    // The last vector is partly padding: store only the lanes of real hidden units.
                    using (w.Block($"for (int e = 0; e < {l.N} && j + e < {p.Hidden}; e++)"))
                    {
                        w.Line($"grads[{dest} + q * {p.Hidden} + j + e] = {Sum(accumulate, $"grads[{dest} + q * {p.Hidden} + j + e]", "sum[e]")};");
                    }
                }
            }
        }
    }

    /// <summary>A sample block's contribution: added to the earlier value, except by the first block when the kernel writes.</summary>
    private static string Sum(bool accumulate, string earlier, string value) =>
        accumulate ? $"{earlier} + {value}" : $"first ? {value} : {earlier} + {value}";

    public static void EmitInputGrad(CodeWriter w, RecurrentInputGradPlan k, VectorSyntax v, string stride)
    {
        RecurrentLayerPlan p = k.Layer;
        var l = new Lanes(v);
        int ip = p.InputPadded, n = l.N;
        int rows = l.IsScalar ? 1 : n == 16 ? 4 : 2;
        int ck = Math.Max(1, Math.Min(ip / n, l.IsScalar ? 4 : n == 16 ? 4 : 4));
        int fullK = ip / (ck * n) * (ck * n);
        string destination = k.Below is { } below
            ? $"sm + {below.StateGradsOffset} + (t + {{0}}) * {below.HiddenPadded}"
            : $"sm + {k.PaddedOffset} + (t + {{0}}) * {ip}";
        w.Line($"// {k.Comment}");
        w.Line($"// {v.Suffix}: tiles of {rows} step(s) x {ck} vector(s) of input features; the reduction runs over the {p.Gates * p.HiddenPadded} gate rows");
        w.Line(Header);
        using (w.Block($"internal static unsafe void {k.Name}_{v.Suffix}{GradientEmitter.Signature}"))
        {
            w.Line($"float* weights = packed + {p.PackedInputRows}; // [{p.Groups}][{p.Gates}][16][{ip}]: weight_ih rows in gate-slot order");
            using (w.Block("for (int s = 0; s < batch; s++)"))
            {
                w.Line($"float* sm = arena + s * {stride};");
                w.Line("int t = 0;");
                void Steps(int r)
                {
                    if (fullK > 0)
                    {
                        using (w.Block($"for (int k = 0; k < {fullK}; k += {ck * n})"))
                        {
                            InputGradTile(w, p, l, r, ck, destination);
                        }
                    }

                    for (int k0 = fullK; k0 < ip; k0 += n)
                    {
                        using (w.Scope())
                        {
                            w.Line($"const int k = {k0};");
                            InputGradTile(w, p, l, r, 1, destination);
                        }
                    }
                }

                if (rows > 1)
                {
                    using (w.Block($"for (; t + {rows} <= {p.Steps}; t += {rows})"))
                    {
                        Steps(rows);
                    }
                }

                using (w.Block($"for (; t < {p.Steps}; t++)"))
                {
                    Steps(1);
                }

                if (k.GradInput is { } gradInput)
                {
                    w.Line($"// The padded rows into the input's gradient [{p.Steps}, {p.InputSize}].");
                    using (w.Block($"for (t = 0; t < {p.Steps}; t++)"))
                    using (w.Block($"for (int i = 0; i < {p.InputSize}; i++)"))
                    {
                        w.Line($"sm[{gradInput.Offset} + t * {p.InputSize} + i] {(k.Accumulate ? "+=" : "=")} sm[{k.PaddedOffset} + t * {ip} + i];");
                    }
                }
            }
        }

        w.Line();
    }

    private static void InputGradTile(CodeWriter w, RecurrentLayerPlan p, Lanes l, int rows, int vectors, string destination)
    {
        int ip = p.InputPadded;
        for (int r = 0; r < rows; r++)
        {
            w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, vectors).Select(c => $"a{r}_{c} = {l.Zero}"))};");
            w.Line($"float* zr{r} = sm + {p.GateGradsOffset} + (t + {r}) * {p.GateRow};");
        }

        using (w.Block($"for (int grp = 0; grp < {p.Groups}; grp++)"))
        using (w.Block($"for (int q = 0; q < {p.Gates}; q++)"))
        {
            w.Line($"int zo = grp * 64 + {Slot(p, "q")} * 16;");
            w.Line($"float* wq = weights + (grp * {p.Gates} + q) * {16 * ip} + k;");
            using (w.Block($"for (int j = 0; j < 16; j++, wq += {ip})"))
            {
                w.Line($"{l.T} {string.Join(", ", Enumerable.Range(0, vectors).Select(c => $"w{c} = {l.Load($"wq + {c * l.N}")}"))};");
                for (int r = 0; r < rows; r++)
                {
                    w.Line($"{l.T} z{r} = {l.Broadcast($"zr{r}[zo + j]")};");
                    for (int c = 0; c < vectors; c++)
                    {
                        w.Line($"a{r}_{c} = {l.Fma($"z{r}", $"w{c}", $"a{r}_{c}")};");
                    }
                }
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < vectors; c++)
            {
                w.Line(l.Store($"a{r}_{c}", string.Format(System.Globalization.CultureInfo.InvariantCulture, destination, r) + $" + k + {c * l.N}"));
            }
        }
    }

    // ---------------------------------------------------------------- packing

    /// <summary>The body of a recurrent pack inside PackWeights (source and target are declared).</summary>
    public static void EmitPack(CodeWriter w, RecurrentPack pack)
    {
        RecurrentLayerPlan p = pack.Layer;
        int g = p.Gates, h = p.Hidden;
        switch (pack.Mode)
        {
            case RecurrentPackKind.Gates:
            {
                // Each source row (one gate of one hidden unit) becomes a column of its group's block [K][gates][16]:
                // per group and gate, a transpose of 16 rows of K (fewer in a last, partial group, whose missing lanes stay zero).
                int k = pack.K;
                if (h <= 16)
                {
                    using (w.Block($"for (int q = 0; q < {g}; q++)"))
                    {
                        w.Line(PackEmitter.Call($"source + q * {h * k}", k, "target + q * 16", g * 16, h, k));
                    }
                }
                else
                {
                    string rows = h % 16 == 0 ? "16" : $"global::System.Math.Min({h} - grp * 16, 16)";
                    using (w.Block($"for (int grp = 0; grp < {(h + 15) / 16}; grp++)"))
                    using (w.Block($"for (int q = 0; q < {g}; q++)"))
                    {
                        w.Line(PackEmitter.Call($"source + (q * {h} + grp * 16) * {k}", k, $"target + (grp * {k * g} + q) * 16", g * 16, rows, k));
                    }
                }

                break;
            }

            case RecurrentPackKind.Rows:
                using (w.Block($"for (int q = 0; q < {g}; q++)"))
                using (w.Block($"for (int j = 0; j < {h}; j++)"))
                {
                    w.Line($"new global::System.ReadOnlySpan<float>(source + (q * {h} + j) * {pack.K}, {pack.K}).CopyTo(new global::System.Span<float>(target + (((j >> 4) * {g} + q) * 16 + (j & 15)) * {pack.KPadded}, {pack.K}));");
                }

                break;
            case RecurrentPackKind.Bias:
                w.Line($"float* second = parameters + {pack.SecondSourceOffset};");
                using (w.Block($"for (int q = 0; q < {g}; q++)"))
                using (w.Block($"for (int j = 0; j < {h}; j++)"))
                {
                    w.Line(p.IsLstm
                        ? $"target[((j >> 4) * {g} + q) * 16 + (j & 15)] = source[q * {h} + j] + second[q * {h} + j];"
                        : $"target[((j >> 4) * {g} + q) * 16 + (j & 15)] = source[q * {h} + j] + (q == 2 ? 0f : second[q * {h} + j]); // b_hn stays inside r (...)");
                }

                break;
            case RecurrentPackKind.RecurrentBias:
                w.Line($"new global::System.ReadOnlySpan<float>(source + {2 * h}, {h}).CopyTo(new global::System.Span<float>(target, {h}));");
                break;
        }
    }
}
