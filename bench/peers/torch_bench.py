#!/usr/bin/python3
"""PyTorch peer of the GraphCompiler benchmarks (the seed CNN, the seed LSTM, a GRU of the same shape, the seed-size Transformer).

Run by `dotnet run -c Release --project bench/GraphCompiler.Bench -- --peers`, which writes, into one
folder and for each model KEY (cnn, lstm, gru, transformer), the weights (`KEY.weights.safetensors`, PyTorch
state_dict names and layouts) and the inputs and the GraphCompiler results to compare with
(`KEY.data.safetensors`). For each model named by --models, this script

  1. builds the model in PyTorch with those weights;
  2. checks that its output matches GraphCompiler's (max abs diff <= 1e-4) at batch 1 and 64, and that
     one training step's loss and parameter gradients match (|d| <= 1e-5 + 1e-3 |value|);
  3. times, with torch.set_num_threads(1) and then 2: inference (torch.inference_mode, model.eval())
     at batch 1 and 64, and a training step (cross-entropy; the Transformer: NLL of its log-probabilities with
     ignore_index 0, at batch 32 instead of 64) (zero_grad(set_to_none=True), forward, cross-entropy,
     backward, SGD(lr, momentum).step(); by default lr=1e-5, momentum=0.9, the C# side passes its own)
     at batch 64 and 1;
  4. prints one JSON document on stdout (progress goes to stderr).

With --export-onnx it only writes `KEY.onnx` for each model instead, with torch.onnx.export (opset 13,
input "input" and output "output", dynamic batch): the ONNX Runtime side of the benchmarks reads it when
the project's own exporter does not cover the model.

Timing follows BenchmarkDotNet's method: after a warm-up, calls run in iterations of k calls each
(k chosen so that an iteration lasts about --iteration-ms); a time per call is an iteration's time over
k; the median and the minimum over the iterations are reported. Each (threads, work) case starts from
the original weights.

The learning rate is small on purpose: the same batch is trained on thousands of times, and with a
usual rate the model memorizes it within a few hundred steps; the loss becomes exactly 0 and the
momentum buffers decay through denormal floats, which slows every engine several times over. The
first and last loss of each timed training case are reported to show the regime.

Needs Debian's python3 with python3-torch, python3-numpy and libopenblas0-openmp, nothing else: the
safetensors files are parsed here with struct, json and numpy.
"""

import argparse
import json
import os
import platform
import re
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUTPUT_TOLERANCE = 1e-4          # max abs diff of the logits
GRAD_RTOL, GRAD_ATOL = 1e-3, 1e-5  # per element: |a - b| <= atol + rtol * |b|


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_safetensors(path):
    """name -> float32 numpy array (F32 tensors only, which is what GraphCompiler writes)."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    data = memoryview(blob)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"])
        tensors[name] = array.astype(np.float32, copy=True)
    return tensors


class SeedCnn(nn.Module):
    """The seed's MNIST CNN (the same layer names as GraphCompiler's MnistCnn)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class SeedRnn(nn.Module):
    """The seed's RNN: a 2-layer LSTM over the 28 rows of an image (28 steps of 28 features), the last step's
    hidden state into a linear classifier (the same names as GraphCompiler's SeedRnn)."""

    def __init__(self, input_size=28, hidden_size=128, num_layers=2, num_classes=10):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.lstm(x)  # zero initial states, as the seed's explicit h0 and c0
        return self.fc(out[:, -1, :])


class SeedGru(nn.Module):
    """The seed RNN's shape with a GRU in place of the LSTM."""

    def __init__(self, input_size=28, hidden_size=128, num_layers=2, num_classes=10):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1, :])


def sinusoidal_table(length, dim):
    """The sinusoidal positional encoding, computed in double as GraphCompiler's EmbeddingKernel.Sinusoidal."""
    table = np.zeros((length, dim), dtype=np.float64)
    for p in range(length):
        for c in range(dim):
            angle = p / (10000.0 ** ((c & ~1) / dim))
            table[p, c] = np.sin(angle) if c % 2 == 0 else np.cos(angle)
    return torch.from_numpy(table.astype(np.float32))


class SeedTransformer(nn.Module):
    """The seed-size Transformer (GraphCompiler's bench/GraphCompiler.Bench/Models/SeedTransformer.cs, the same names):
    nn.Transformer(d_model 64, 4 heads, 2 + 2 post-norm layers, feed-forward 256, ReLU, dropout 0, final encoder and
    decoder norms), embeddings scaled by sqrt(64) = 8, sinusoidal positional encoding, generator Linear(64, 48) and
    log_softmax. Token 0 is padding (masked as keys everywhere), the decoder's self-attention is causal. The input
    is the pair (source, target) of int64 [batch, 16] token tensors."""

    def __init__(self, vocabulary=48, d_model=64, heads=4, layers=2, feed_forward=256, length=16):
        super().__init__()
        self.src_embed = nn.Embedding(vocabulary, d_model)
        self.tgt_embed = nn.Embedding(vocabulary, d_model)
        self.transformer = nn.Transformer(d_model, heads, layers, layers, feed_forward, dropout=0.0, batch_first=True)
        self.generator = nn.Linear(d_model, vocabulary)
        self.scale = float(np.sqrt(d_model))
        self.register_buffer("pe", sinusoidal_table(length, d_model), persistent=False)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(length), persistent=False)

    def forward(self, src, tgt):
        src_pad = src == 0
        tgt_pad = tgt == 0
        x = self.src_embed(src) * self.scale + self.pe[:src.shape[1]]
        y = self.tgt_embed(tgt) * self.scale + self.pe[:tgt.shape[1]]
        h = self.transformer(x, y, tgt_mask=self.causal[:tgt.shape[1], :tgt.shape[1]], src_key_padding_mask=src_pad,
                             tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return F.log_softmax(self.generator(h), dim=-1)


MODELS = {"cnn": SeedCnn, "lstm": SeedRnn, "gru": SeedGru, "transformer": SeedTransformer}

# The training step's batch in the peers table (the issue's): 64, the Transformer's 32.
TRAINING_BATCH = {"transformer": 32}
TOKEN_LENGTH = 16


def model_inputs(key, x):
    """The model's arguments from the shared float input: the Transformer's source and target tokens as int64."""
    if key == "transformer":
        tokens = x.to(torch.int64)
        return tokens[:, :TOKEN_LENGTH].contiguous(), tokens[:, TOKEN_LENGTH:].contiguous()
    return (x,)


def loss_of(key, output, labels):
    """Cross-entropy of the logits; the Transformer: mean NLL of its log-probabilities over non-padding positions."""
    if key == "transformer":
        return F.nll_loss(output.reshape(-1, output.shape[-1]), labels.reshape(-1), ignore_index=0)
    return F.cross_entropy(output, labels)


def build_model(key, weights):
    model = MODELS[key]()
    state = {name: torch.from_numpy(value.copy()) for name, value in weights.items()}
    model.load_state_dict(state, strict=True)  # raises on a missing, extra or misshapen tensor
    return model


def max_abs_diff(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def check(key, weights, data):
    """Compares PyTorch's forward output, loss and gradients with GraphCompiler's; returns a report."""
    report = {"output": {}, "training": {}, "ok": True}
    model = build_model(key, weights)
    model.eval()
    x64 = torch.from_numpy(data["input_b64"])
    for batch in (1, 64):
        with torch.inference_mode():
            out = model(*model_inputs(key, x64[:batch])).numpy()
        diff = max_abs_diff(out.reshape(batch, -1), data[f"gc_output_b{batch}"].reshape(batch, -1))
        ok = diff <= OUTPUT_TOLERANCE
        report["output"][str(batch)] = {"max_abs_diff": diff, "tolerance": OUTPUT_TOLERANCE, "ok": ok}
        report["ok"] &= ok

    labels64 = torch.from_numpy(data["labels_b64"].astype(np.int64))
    for batch in (1, 64):
        model = build_model(key, weights)
        model.train()
        model.zero_grad(set_to_none=True)
        loss = loss_of(key, model(*model_inputs(key, x64[:batch])), labels64[:batch])
        loss.backward()
        loss_value = float(loss.item())
        gc_loss = float(data[f"gc_loss_b{batch}"].reshape(-1)[0])
        loss_diff = abs(loss_value - gc_loss)
        loss_ok = loss_diff <= GRAD_ATOL + GRAD_RTOL * abs(gc_loss)
        worst_abs, worst_excess, worst_name = 0.0, 0.0, None
        for name, p in model.named_parameters():
            ours = p.grad.numpy().astype(np.float64)
            theirs = data[f"gc_grad_b{batch}.{name}"].astype(np.float64).reshape(ours.shape)
            d = np.abs(ours - theirs)
            excess = float(np.max(d / (GRAD_ATOL + GRAD_RTOL * np.abs(theirs))))
            if excess > worst_excess:
                worst_excess, worst_name = excess, name
            worst_abs = max(worst_abs, float(np.max(d)))
        grads_ok = worst_excess <= 1.0
        report["training"][str(batch)] = {
            "loss_pytorch": loss_value,
            "loss_graphcompiler": gc_loss,
            "loss_abs_diff": loss_diff,
            "grad_max_abs_diff": worst_abs,
            "grad_worst_tolerance_fraction": worst_excess,
            "grad_worst_parameter": worst_name,
            "rtol": GRAD_RTOL,
            "atol": GRAD_ATOL,
            "ok": bool(loss_ok and grads_ok),
        }
        report["ok"] &= bool(loss_ok and grads_ok)
    report["ok"] = bool(report["ok"])
    return report


def measure(fn, iteration_ms, iterations, warmup_iterations, min_seconds):
    """BenchmarkDotNet-like: warm-up, then `iterations` iterations of k calls; per-call median and min."""
    # Pilot: grow k until one iteration lasts iteration_ms (the first calls also warm the caches up).
    k = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(k):
            fn()
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= iteration_ms * 1e6 or k >= 1 << 20:
            break
        k = max(k + 1, min(k * 16, int(k * iteration_ms * 1e6 / max(elapsed, 1) * 1.1) + 1))
    for _ in range(warmup_iterations):
        for _ in range(k):
            fn()
    per_call = []
    start = time.perf_counter()
    while len(per_call) < iterations or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter_ns()
        for _ in range(k):
            fn()
        per_call.append((time.perf_counter_ns() - t0) / k)
    return {
        "median_ns": statistics.median(per_call),
        "min_ns": min(per_call),
        "mean_ns": statistics.fmean(per_call),
        "iterations": len(per_call),
        "calls_per_iteration": k,
    }


def time_cases(key, weights, data, threads_list, args):
    x64 = torch.from_numpy(data["input_b64"])
    labels64 = torch.from_numpy(data["labels_b64"].astype(np.int64))
    results = []
    for threads in threads_list:
        torch.set_num_threads(threads)
        actual = torch.get_num_threads()
        for work, batch in (("inference", 1), ("inference", 64), ("training", TRAINING_BATCH.get(key, 64)), ("training", 1)):
            x = model_inputs(key, x64[:batch].contiguous())
            y = labels64[:batch].contiguous()
            model = build_model(key, weights)
            state = [0, None, None]  # calls, last loss, first loss
            if work == "inference":
                model.eval()

                def call(model=model, x=x, state=state):
                    with torch.inference_mode():
                        model(*x)
                    state[0] += 1
            else:
                model.train()
                optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

                def call(model=model, x=x, y=y, optimizer=optimizer, state=state):
                    optimizer.zero_grad(set_to_none=True)
                    loss = loss_of(key, model(*x), y)
                    loss.backward()
                    optimizer.step()
                    state[0] += 1
                    state[1] = loss
                    if state[2] is None:
                        state[2] = loss

            stats = measure(call, args.iteration_ms, args.iterations, args.warmup, args.min_seconds)
            stats.update({"model": key, "work": work, "batch": batch, "threads": actual,
                          "load_average": load_average(), "calls": state[0]})
            if work == "training":
                stats.update({"first_loss": float(state[2].item()), "last_loss": float(state[1].item())})
            log(f"  PyTorch {key:4s} {work:9s} batch {batch:2d} threads {actual}: median {stats['median_ns'] / 1e6:.4f} ms, "
                f"min {stats['min_ns'] / 1e6:.4f} ms ({stats['iterations']} x {stats['calls_per_iteration']} calls)")
            if work == "training":
                log(f"    loss {stats['first_loss']:.6f} at the first step, {stats['last_loss']:.6f} after {state[0]} steps")
            results.append(stats)
    return results


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def loaded_blas():
    """The BLAS libraries this process mapped after a matrix product (Debian picks one through alternatives)."""
    a = torch.ones(64, 64)
    torch.mm(a, a)
    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower():
                    names.add(path)
    except OSError:
        pass
    return sorted(names)


def versions():
    config = torch.__config__.show()
    found = re.search(r"BLAS_INFO=([^,\s]+)", config)
    blas_info = "BLAS_INFO=" + found.group(1) if found else None
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "blas_info": blas_info,
        "blas_libraries": " ".join(loaded_blas()),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "default_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }


def export_onnx(key, weights, path):
    """torch.onnx.export of the model with these weights: opset 13, "input" -> "output", dynamic batch."""
    model = build_model(key, weights)
    model.eval()
    example = torch.zeros((1,) + INPUT_SHAPES[key], dtype=torch.float32)
    torch.onnx.export(model, example, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True)


INPUT_SHAPES = {"cnn": (1, 28, 28), "lstm": (28, 28), "gru": (28, 28)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="folder with KEY.weights.safetensors and KEY.data.safetensors")
    parser.add_argument("--models", default="cnn", help="comma-separated models: cnn, lstm, gru (default cnn)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--iteration-ms", type=float, default=100.0, help="target length of one iteration")
    parser.add_argument("--iterations", type=int, default=25, help="measured iterations per case")
    parser.add_argument("--warmup", type=int, default=6, help="warm-up iterations per case")
    parser.add_argument("--min-seconds", type=float, default=0.0, help="measure at least this long per case")
    parser.add_argument("--lr", type=float, default=1e-5, help="SGD learning rate of the training step")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum of the training step")
    parser.add_argument("--quick", action="store_true", help="short runs for development (not for reporting)")
    parser.add_argument("--export-onnx", action="store_true", help="only write KEY.onnx for each model")
    args = parser.parse_args()
    if args.quick:
        args.iteration_ms, args.iterations, args.warmup = 40.0, 5, 2
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")

    torch.manual_seed(0)
    torch.set_num_threads(1)
    if args.export_onnx:
        written = []
        for key in keys:
            weights = read_safetensors(os.path.join(args.dir, f"{key}.weights.safetensors"))
            path = os.path.join(args.dir, f"{key}.onnx")
            export_onnx(key, weights, path)
            written.append(path)
            log(f"  PyTorch {torch.__version__}: exported {key} to {path}")
        print(json.dumps({"exported": written, "torch": torch.__version__}))
        return 0

    info = versions()
    checks = {"ok": True, "models": {}}
    results = []
    for key in keys:
        weights = read_safetensors(os.path.join(args.dir, f"{key}.weights.safetensors"))
        data = read_safetensors(os.path.join(args.dir, f"{key}.data.safetensors"))
        torch.set_num_threads(1)
        report = check(key, weights, data)
        checks["models"][key] = report
        checks["ok"] = bool(checks["ok"] and report["ok"])
        log(f"  PyTorch {info['torch']} {key}: checks {'passed' if report['ok'] else 'FAILED'}: "
            + json.dumps({k: v for k, v in report.items() if k != 'ok'}))
    if checks["ok"]:
        threads_list = [t for t in (int(s) for s in args.threads.split(",")) if t >= 1]
        for key in keys:
            weights = read_safetensors(os.path.join(args.dir, f"{key}.weights.safetensors"))
            data = read_safetensors(os.path.join(args.dir, f"{key}.data.safetensors"))
            results += time_cases(key, weights, data, threads_list, args)
    print(json.dumps({
        "versions": info,
        "checks": checks,
        "method": {
            "iteration_ms": args.iteration_ms,
            "iterations": args.iterations,
            "warmup_iterations": args.warmup,
            "inference": "model.eval(), torch.inference_mode()",
            "training": f"zero_grad(set_to_none=True), forward, F.cross_entropy, backward, "
                        f"SGD(lr={args.lr}, momentum={args.momentum}).step()",
        },
        "results": results,
    }, indent=1))
    return 0 if checks["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
