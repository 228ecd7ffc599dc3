using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GraphCompiler;

/// <summary>
/// Runs one large batch across several cores: the batch is cut into contiguous slices, one per worker;
/// every worker is a model instance (its own activation arena) over the same shared parameters.
/// Gradients are summed in worker order, so a given worker count always gives the same bits; another
/// worker count changes only the float rounding of the sums.
/// </summary>
/// <remarks>
/// Workers are long-lived threads that wait between calls, so a call allocates nothing. Not
/// thread-safe: one caller at a time. Dispose stops the threads.
/// </remarks>
public sealed unsafe class DataParallel<TModel> : IDisposable
    where TModel : ICompiledModel
{
    private readonly TModel[] _models;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _start;
    private readonly CountdownEvent _done;
    private readonly AlignedBuffer _gradients;
    private readonly int _maxBatch;
    private volatile bool _stopping;

    // The current call, read by the workers between _start and _done.
    private Work _work;
    private float* _a;
    private float* _b;
    private int _batch;
    private Exception? _failure;

    private enum Work
    {
        Forward,
        Backward,
    }

    /// <param name="parameters">The shared parameters.</param>
    /// <param name="create">Makes one workspace: (parameters, its largest slice) -> model.</param>
    /// <param name="maxBatch">The largest whole batch.</param>
    /// <param name="workers">Threads to use, the caller's included (default: one per core).</param>
    public DataParallel(ParameterSet parameters, Func<ParameterSet, int, TModel> create, int maxBatch, int workers = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        workers = workers <= 0 ? Environment.ProcessorCount : workers;
        workers = Math.Min(workers, maxBatch);
        _maxBatch = maxBatch;
        int slice = (maxBatch + workers - 1) / workers;
        _models = new TModel[workers];
        for (int i = 0; i < workers; i++)
        {
            _models[i] = create(parameters, slice);
        }

        Parameters = parameters;
        _gradients = new AlignedBuffer(parameters.BufferLength);
        _start = new SemaphoreSlim[workers];
        _threads = new Thread[workers];
        _done = new CountdownEvent(1);
        // The event allocates on its first blocking wait (its wait handle, and the lock object it waits on): make
        // both now, with a wait that times out (nothing signals it yet), so that no call allocates later.
        _ = _done.WaitHandle;
        _done.Wait(1);
        for (int i = 1; i < workers; i++)
        {
            int index = i;
            _start[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"GraphCompiler worker {i}" };
            _threads[i].Start();
        }
    }

    public int Workers => _models.Length;

    public ParameterSet Parameters { get; }

    /// <summary>The worker models (workspaces), in slice order.</summary>
    public IReadOnlyList<TModel> Models => _models;

    /// <summary>Training mode of every worker.</summary>
    public bool Training
    {
        get => _models[0].Training;
        set
        {
            foreach (TModel model in _models)
            {
                model.Training = value;
            }
        }
    }

    /// <summary>dLoss/dParameters of the last Backward, summed over the workers in order.</summary>
    public AlignedBuffer Gradients => _gradients;

    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        TModel first = _models[0];
        int batch = InputChecks.Batch(nameof(DataParallel<TModel>), input.Length, first.InputLength, output.Length, first.OutputLength, _maxBatch);
        fixed (float* x = input, y = output)
        {
            Run(Work.Forward, x, y, batch);
        }
    }

    /// <summary>Backpropagates the output gradient of the last (training) Forward and sums the workers' gradients.</summary>
    public void Backward(ReadOnlySpan<float> outputGrad)
    {
        if (outputGrad.Length != _batch * _models[0].OutputLength || _batch == 0)
        {
            throw new ArgumentException(
                $"DataParallel.Backward: the output gradient holds {outputGrad.Length} floats; the last Forward ran a batch of {_batch}, " +
                $"so {_batch * _models[0].OutputLength} are expected.", nameof(outputGrad));
        }

        fixed (float* g = outputGrad)
        {
            Run(Work.Backward, g, null, _batch);
        }

        // Deterministic reduction: worker 0, then + worker 1, ... (only workers that had samples).
        int used = Math.Min(_models.Length, _batch);
        Span<float> sum = _gradients.Span;
        _models[0].Gradients.Span.CopyTo(sum);
        for (int i = 1; i < used && Slice(i, _batch).Count > 0; i++)
        {
            Add(sum, _models[i].Gradients.Span);
        }
    }

    private void Run(Work work, float* a, float* b, int batch)
    {
        _work = work;
        _a = a;
        _b = b;
        _batch = batch;
        _failure = null;
        int helpers = _models.Length - 1;
        _done.Reset(helpers == 0 ? 1 : helpers);
        for (int i = 1; i < _models.Length; i++)
        {
            _start[i].Release();
        }

        try
        {
            RunSlice(0);
        }
        finally
        {
            if (helpers > 0)
            {
                _done.Wait();
            }
        }

        if (_failure is not null)
        {
            throw new AggregateException("A data-parallel worker failed.", _failure);
        }
    }

    private (int Start, int Count) Slice(int worker, int batch)
    {
        int per = (batch + _models.Length - 1) / _models.Length;
        int start = Math.Min(batch, worker * per);
        return (start, Math.Min(per, batch - start));
    }

    private void RunSlice(int worker)
    {
        (int start, int count) = Slice(worker, _batch);
        TModel model = _models[worker];
        int inputLength = model.InputLength, outputLength = model.OutputLength;
        if (count == 0)
        {
            return;
        }

        if (_work == Work.Forward)
        {
            model.Forward(new ReadOnlySpan<float>(_a + start * inputLength, count * inputLength), new Span<float>(_b + start * outputLength, count * outputLength));
        }
        else
        {
            model.Backward(new ReadOnlySpan<float>(_a + start * outputLength, count * outputLength));
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                RunSlice(index);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            finally
            {
                _done.Signal();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Add(Span<float> sum, ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<float>.Count <= sum.Length; i += Vector256<float>.Count)
            {
                (Vector256.Create(sum.Slice(i, Vector256<float>.Count)) + Vector256.Create(values.Slice(i, Vector256<float>.Count))).CopyTo(sum.Slice(i));
            }
        }

        for (; i < sum.Length; i++)
        {
            sum[i] += values[i];
        }
    }

    public void Dispose()
    {
        _stopping = true;
        for (int i = 1; i < _models.Length; i++)
        {
            _start[i].Release();
            _threads[i].Join();
            _start[i].Dispose();
        }

        _done.Dispose();
    }
}
