#!/usr/bin/python3
"""Writes the PyTorch golden files of the GraphCompiler tests: tests/golden/data/<Case>.safetensors.

Run with Debian's own interpreter (the only one that imports Debian's python3-torch):

    bash tests/golden/setup.sh            # once: installs python3-torch, python3-numpy, OpenBLAS
    /usr/bin/python3 tests/golden/make_golden.py

Every case is a PyTorch module that mirrors a [Model] class of the C# tests exactly: the same attribute
names (so the same state_dict names), hyperparameters and input shape per sample. The models of
tests/GraphCompiler.Tests/Models/TestModels.cs and RecurrentModels.cs and the single-op models of
tests/GraphCompiler.Tests/Golden/GoldenModels.cs are mirrored here; change both sides together.

Each file holds, all as F32:
  <parameter names>   the parameters, PyTorch's default initialization from the case's seed
  input               a batch of 3 random samples, [3, ...]
  output              the model's output, [3, ...]
  labels              class indices stored as floats (cross-entropy cases), [3]
  loss_weights        r, the output's shape (weighted-sum cases)
  loss                cross_entropy(output, labels) with mean reduction, or sum(output * r); a scalar
  grad.<name>         dLoss/dParameter, for every parameter
  grad.input          dLoss/dInput
and the metadata "loss" (cross_entropy or weighted_sum), "case", "torch" (the version), "precision".

Parameters and inputs are float32 values; the output, the loss and the gradients are computed from them
in float64 and rounded to float32 once, so the files hold the exact answer (to float32 rounding), not one
float32 implementation's rounding. The script also runs each case in float32 and prints how far PyTorch's
own float32 result is from the stored one, next to the tolerances the C# tests use.

The output is deterministic (fixed seeds, one thread, a fixed header layout): running the script again
rewrites byte-identical files.
"""

import json
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 3
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


# ---------------------------------------------------------------------------------------------------------------
# Mirrors of tests/GraphCompiler.Tests/Models/TestModels.cs


class SeedCnn(nn.Module):
    input_shape = (1, 28, 28)
    loss = "cross_entropy"

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


class StridedDilatedConv(nn.Module):
    input_shape = (3, 11, 9)
    loss = "cross_entropy"  # log-softmax scores: cross_entropy's own log_softmax leaves them unchanged

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 5, kernel_size=3, stride=2, padding=2, dilation=2)
        self.fc = nn.Linear(5 * 6 * 5, 7)

    def forward(self, x):
        h = torch.tanh(self.conv(x))
        return F.log_softmax(self.fc(torch.flatten(h, 1)), dim=-1)


class PoolingMix(nn.Module):
    input_shape = (2, 9, 10)
    loss = "weighted_sum"

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 20, kernel_size=1, bias=False)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True)
        self.max = nn.MaxPool2d(3, stride=2, padding=1)

    def forward(self, x):
        return self.max(self.avg(torch.sigmoid(self.conv(x))))


class FusedPools(nn.Module):
    input_shape = (4, 8, 8)
    loss = "weighted_sum"

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 24, kernel_size=3, padding=1)
        self.avg = nn.AvgPool2d(2, count_include_pad=True)
        self.conv2 = nn.Conv2d(24, 16, kernel_size=2)
        self.max = nn.MaxPool2d(3)

    def forward(self, x):
        x = self.avg(torch.tanh(self.conv1(x)))
        x = self.max(F.relu(self.conv2(x)))
        return torch.flatten(x, 1)


class ElementwiseAndReshape(nn.Module):
    input_shape = (20,)
    loss = "weighted_sum"  # softmax probabilities, not scores

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(20, 48)
        self.b = nn.Linear(20, 48)
        self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.head = nn.Linear(64, 6, bias=False)

    def forward(self, x):
        s = self.a(x) + self.b(x)
        p = torch.sigmoid(self.a(x)) * s
        image = p.view(-1, 3, 4, 4)
        y = F.relu(self.conv(image))
        return F.softmax(self.head(y.view(-1, 64)), dim=-1)


# ---------------------------------------------------------------------------------------------------------------
# Mirrors of tests/GraphCompiler.Tests/Models/RecurrentModels.cs
#
# GraphCompiler keeps the batch first everywhere: its recurrent states are [batch, layers, hidden] where
# PyTorch's are [layers, batch, hidden], hence the transposes on the way in and out.


def batch_first(state):
    """PyTorch's h_n / c_n [layers, batch, hidden] as GraphCompiler's [batch, layers, hidden]."""
    return state.transpose(0, 1)


def layers_first(state):
    """GraphCompiler's [batch, layers, hidden] initial state as PyTorch's [layers, batch, hidden]."""
    return state.transpose(0, 1).contiguous()


class LstmClassifier(nn.Module):
    """The seed's RNN, small: hidden 12 (not a whole number of vectors), 2 layers, reading the last step."""
    input_shape = (6, 5)
    loss = "cross_entropy"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(5, 12, num_layers=2, batch_first=True)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        output, _ = self.lstm(x)
        return self.fc(output[:, -1, :])


class LstmFinalStates(nn.Module):
    """One layer, hidden 16: the output reads h_n + c_n and a middle step of the sequence."""
    input_shape = (5, 7)
    loss = "weighted_sum"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(7, 16, batch_first=True)
        self.fc = nn.Linear(16, 3)
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        output, (hn, cn) = self.lstm(x)
        return self.fc(torch.flatten(batch_first(hn) + batch_first(cn), 1)) + self.head(output[:, 1, :])


class LstmInitialStates(nn.Module):
    """Two layers, hidden 10, with h0 and c0 computed from the input; the output reads c_n and the last step."""
    input_shape = (5, 4)
    loss = "cross_entropy"

    def __init__(self):
        super().__init__()
        self.hinit = nn.Linear(20, 20)
        self.cinit = nn.Linear(20, 20)
        self.lstm = nn.LSTM(4, 10, num_layers=2, batch_first=True)
        self.fc = nn.Linear(20, 6)
        self.head = nn.Linear(10, 6)

    def forward(self, x):
        h0 = torch.tanh(self.hinit(torch.flatten(x, 1))).view(-1, 2, 10)
        c0 = self.cinit(torch.flatten(x, 1)).view(-1, 2, 10)
        output, (hn, cn) = self.lstm(x, (layers_first(h0), layers_first(c0)))
        return self.fc(torch.flatten(batch_first(cn), 1)) + self.head(torch.select(output, 1, -1))


class GruClassifier(nn.Module):
    """The seed's RNN shape with a GRU: hidden 12, 2 layers, reading the last step."""
    input_shape = (6, 5)
    loss = "cross_entropy"

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(5, 12, num_layers=2, batch_first=True)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        output, _ = self.gru(x)
        return self.fc(output[:, -1, :])


class GruInitialState(nn.Module):
    """Two layers, hidden 9, h0 computed from the input; the output reads h_n and the first step."""
    input_shape = (4, 3)
    loss = "cross_entropy"

    def __init__(self):
        super().__init__()
        self.init = nn.Linear(12, 18)
        self.gru = nn.GRU(3, 9, num_layers=2, batch_first=True)
        self.fc = nn.Linear(18, 5)
        self.head = nn.Linear(9, 5)

    def forward(self, x):
        h0 = torch.tanh(self.init(torch.flatten(x, 1))).view(-1, 2, 9)
        output, hn = self.gru(x, layers_first(h0))
        return self.fc(torch.flatten(batch_first(hn), 1)) + self.head(torch.select(output, 1, 0))


class LstmDeepNoBias(nn.Module):
    """Three layers without biases, hidden 8 (half a 512-bit vector); the output is h_n of every layer."""
    input_shape = (4, 3)
    loss = "weighted_sum"

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, num_layers=3, bias=False, batch_first=True)

    def forward(self, x):
        _, (hn, _) = self.lstm(x)
        return torch.flatten(batch_first(hn), 1)


class GruSequenceNoBias(nn.Module):
    """One layer without biases, hidden 20 (more than one 512-bit vector, not two); the output is the whole sequence."""
    input_shape = (3, 6)
    loss = "weighted_sum"

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 20, bias=False, batch_first=True)

    def forward(self, x):
        output, _ = self.gru(x)
        return torch.flatten(output, 1)


# ---------------------------------------------------------------------------------------------------------------
# Mirrors of tests/GraphCompiler.Tests/Golden/GoldenModels.cs


# ---------------------------------------------------------------------------------------------------------------
# Mirror of tests/GraphCompiler.Tests/Models/TransformerModels.cs (TinyTransformer)


def sinusoidal(length, dim):
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div = torch.pow(10000.0, torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    pe = torch.zeros(length, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position / div)
    pe[:, 1::2] = torch.cos(position / div)
    return pe


class TinyTransformer(nn.Module):
    """nn.Transformer (post-norm, ReLU) between two embeddings and a generator; token inputs; NLL with pad 0 ignored."""
    tokens = True
    vocab, src_len, tgt_len, d_model = 11, 6, 5, 16
    loss = "nll_ignore_pad"

    def __init__(self):
        super().__init__()
        self.src_embed = nn.Embedding(self.vocab, self.d_model)
        self.tgt_embed = nn.Embedding(self.vocab, self.d_model)
        self.transformer = nn.Transformer(self.d_model, 2, 2, 2, 32, dropout=0.0, batch_first=True)
        self.generator = nn.Linear(self.d_model, self.vocab)

    def forward(self, src, tgt):
        dtype = self.generator.weight.dtype
        x = self.src_embed(src) * 4.0 + sinusoidal(self.src_len, self.d_model).to(dtype)
        y = self.tgt_embed(tgt) * 4.0 + sinusoidal(self.tgt_len, self.d_model).to(dtype)
        causal = torch.triu(torch.full((self.tgt_len, self.tgt_len), float("-inf"), dtype=dtype), diagonal=1)
        out = self.transformer(x, y, tgt_mask=causal, src_key_padding_mask=(src == 0),
                               tgt_key_padding_mask=(tgt == 0), memory_key_padding_mask=(src == 0))
        return F.log_softmax(self.generator(out), dim=-1)


def token_tensors_of_case(case):
    """Token cases: src and tgt (stored as floats) with padding at the ends, targets with pad 0 ignored."""
    torch.manual_seed(zlib.crc32(case.__name__.encode()))
    module = case()
    src = torch.randint(1, case.vocab, (BATCH, case.src_len))
    tgt = torch.randint(1, case.vocab, (BATCH, case.tgt_len))
    labels = torch.randint(1, case.vocab, (BATCH, case.tgt_len))
    for n, (src_pad, tgt_pad) in enumerate([(0, 0), (2, 1), (3, 2)][:BATCH]):
        if src_pad:
            src[n, -src_pad:] = 0
        if tgt_pad:
            tgt[n, -tgt_pad:] = 0
            labels[n, -tgt_pad:] = 0
    state = {name: p.detach().clone() for name, p in module.state_dict().items()}

    def run_tokens(dtype):
        m = module.to(dtype)
        m.zero_grad(set_to_none=True)
        m.train()
        y = m(src, tgt)
        loss = F.nll_loss(y.reshape(-1, case.vocab), labels.reshape(-1), ignore_index=0)
        loss.backward()
        return y.detach(), loss.detach(), {name: p.grad.detach().clone() for name, p in m.named_parameters()}

    y, loss, grads = run_tokens(torch.float64)
    tensors = dict(state)
    tensors["src"] = src.to(torch.float32)
    tensors["tgt"] = tgt.to(torch.float32)
    tensors["output"] = y
    tensors["labels"] = labels.to(torch.float32)
    tensors["loss"] = loss
    for name in state:
        tensors["grad." + name] = grads[name]
    tensors = {name: t.to(torch.float32).contiguous() for name, t in tensors.items()}
    module.load_state_dict(state)
    y32, loss32, grads32 = run_tokens(torch.float32)
    report = {"output": excess(tensors["output"], y32, 1e-4, 1e-5),
              "grads": max(excess(tensors["grad." + n], grads32[n], 1e-3, 1e-5) for n in state)}
    metadata = {
        "case": case.__name__,
        "loss": case.loss,
        "torch": torch.__version__,
        "precision": "parameters float32; output, loss and gradients computed in float64",
    }
    return tensors, metadata, report


def conv_case(name, shape, in_ch, out_ch, kernel, stride=1, padding=0, dilation=1, bias=True):
    class Case(nn.Module):
        input_shape = shape
        loss = "weighted_sum"

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=kernel, stride=stride, padding=padding,
                                  dilation=dilation, bias=bias)

        def forward(self, x):
            return self.conv(x)

    Case.__name__ = name
    return Case


def pool_case(name, shape, pool):
    class Case(nn.Module):
        input_shape = shape
        loss = "weighted_sum"

        def __init__(self):
            super().__init__()
            self.pool = pool()

        def forward(self, x):
            return self.pool(x)

    Case.__name__ = name
    return Case


def linear_case(name, in_features, out_features, bias, loss):
    class Case(nn.Module):
        input_shape = (in_features,)

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(in_features, out_features, bias=bias)

        def forward(self, x):
            return self.fc(x)

    Case.loss = loss
    Case.__name__ = name
    return Case


def function_case(name, shape, function, loss="weighted_sum"):
    class Case(nn.Module):
        input_shape = shape

        def forward(self, x):
            return function(x)

    Case.loss = loss
    Case.__name__ = name
    return Case


CASES = [
    SeedCnn,
    StridedDilatedConv,
    PoolingMix,
    FusedPools,
    ElementwiseAndReshape,
    LstmClassifier,
    LstmFinalStates,
    LstmInitialStates,
    GruClassifier,
    GruInitialState,
    LstmDeepNoBias,
    GruSequenceNoBias,
    TinyTransformer,
    conv_case("ConvStride2Pad1", (3, 9, 9), 3, 8, 3, stride=2, padding=1),
    conv_case("ConvDilation2Pad2", (4, 10, 10), 4, 6, 3, padding=2, dilation=2),
    conv_case("ConvStride3Dilation2", (2, 13, 11), 2, 5, 3, stride=3, dilation=2),
    conv_case("ConvKernel5NoBias", (3, 7, 7), 3, 17, 5, padding=2, bias=False),
    conv_case("ConvKernel4Stride2", (5, 8, 8), 5, 8, 4, stride=2, padding=1),
    conv_case("ConvKernel2Stride2Pad1Dilation3", (3, 9, 8), 3, 4, 2, stride=2, padding=1, dilation=3),
    conv_case("ConvWideChannels", (33, 6, 5), 33, 40, 3, padding=1),
    conv_case("Conv1x1Stride2", (16, 7, 7), 16, 16, 1, stride=2),
    pool_case("MaxPool3Stride2Pad1", (5, 9, 8), lambda: nn.MaxPool2d(3, stride=2, padding=1)),
    pool_case("MaxPool2Odd", (3, 7, 7), lambda: nn.MaxPool2d(2)),
    pool_case("MaxPool3Stride1Pad1", (4, 6, 6), lambda: nn.MaxPool2d(3, stride=1, padding=1)),
    pool_case("AvgPool3Stride2Pad1", (5, 9, 8), lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True)),
    pool_case("AvgPool2Pad1", (3, 7, 6), lambda: nn.AvgPool2d(2, padding=1, count_include_pad=True)),
    pool_case("AvgPool3", (4, 10, 9), lambda: nn.AvgPool2d(3, count_include_pad=True)),
    linear_case("Linear37To19", 37, 19, bias=True, loss="cross_entropy"),
    linear_case("Linear64To33NoBias", 64, 33, bias=False, loss="weighted_sum"),
    function_case("TanhOnly", (3, 5, 7), torch.tanh),
    function_case("SigmoidOnly", (41,), torch.sigmoid),
    function_case("ReluOnly", (2, 6, 5), F.relu),
    function_case("SoftmaxOnly", (10,), lambda x: F.softmax(x, dim=-1)),
    function_case("SoftmaxRows", (4, 6), lambda x: F.softmax(x, dim=-1)),
    function_case("LogSoftmaxOnly", (13,), lambda x: F.log_softmax(x, dim=-1), loss="cross_entropy"),
]


# ---------------------------------------------------------------------------------------------------------------
# Running a case


def run(module, x, labels, weights, dtype):
    """Forward, loss and backward in dtype; returns output, loss, {name: grad}, grad of the input."""
    module = module.to(dtype)
    module.zero_grad(set_to_none=True)
    x = x.to(dtype).clone().requires_grad_(True)
    module.train()
    y = module(x)
    if module.loss == "cross_entropy":
        loss = F.cross_entropy(y, labels, reduction="mean")
    else:
        loss = (y * weights.to(dtype)).sum()
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in module.named_parameters()}
    return y.detach(), loss.detach(), grads, x.grad.detach()


def tensors_of_case(case):
    torch.manual_seed(zlib.crc32(case.__name__.encode()))  # the case's seed: from its name, so cases stay independent
    module = case()
    x = torch.randn((BATCH,) + tuple(case.input_shape), dtype=torch.float32)
    with torch.no_grad():
        out_shape = module(x).shape
    classes = out_shape[-1]
    labels = torch.randint(0, classes, (BATCH,)) if case.loss == "cross_entropy" else None
    weights = torch.randn(out_shape, dtype=torch.float32) if case.loss == "weighted_sum" else None

    state = {name: p.detach().clone() for name, p in module.state_dict().items()}
    y, loss, grads, grad_x = run(module, x, labels, weights, torch.float64)

    tensors = dict(state)
    tensors["input"] = x
    tensors["output"] = y
    if labels is not None:
        tensors["labels"] = labels.to(torch.float32)
    if weights is not None:
        tensors["loss_weights"] = weights
    tensors["loss"] = loss
    for name in state:
        tensors["grad." + name] = grads[name]
    tensors["grad.input"] = grad_x
    tensors = {name: t.to(torch.float32).contiguous() for name, t in tensors.items()}

    # PyTorch's own float32 run against the stored values, in units of the C# tests' tolerances.
    module.load_state_dict(state)
    y32, loss32, grads32, grad_x32 = run(module.float(), x, labels, weights, torch.float32)
    report = {"output": excess(tensors["output"], y32, 1e-4, 1e-5)}
    report["grads"] = max([excess(tensors["grad." + n], grads32[n], 1e-3, 1e-5) for n in state]
                          + [excess(tensors["grad.input"], grad_x32, 1e-3, 1e-5)])
    metadata = {
        "case": case.__name__,
        "loss": case.loss,
        "torch": torch.__version__,
        "precision": "parameters and input float32; output, loss and gradients computed in float64",
    }
    return tensors, metadata, report


def excess(expected, actual, rtol, atol):
    """Largest |actual - expected| / (atol + rtol |expected|): at most 1 passes the C# tests' check."""
    expected = expected.double()
    return float(((actual.double() - expected).abs() / (atol + rtol * expected.abs())).max())


# ---------------------------------------------------------------------------------------------------------------
# The safetensors format, written directly (Debian ships no safetensors package for Python)


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors.items():
        data = t.numpy().astype("<f4", copy=False).tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned, padded with spaces as the format does
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".tmp", path)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(DATA, exist_ok=True)
    only = set(sys.argv[1:])
    names = [c.__name__ for c in CASES]
    unknown = only - set(names)
    if unknown:
        sys.exit("unknown case(s): " + ", ".join(sorted(unknown)) + "; cases: " + ", ".join(names))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); writing {DATA}")
    print(f"{'case':34} {'bytes':>9}  float32 PyTorch vs stored, in tolerances (<= 1 passes): output, gradients")
    total = 0
    for case in CASES:
        if only and case.__name__ not in only:
            continue
        tensors, metadata, report = (token_tensors_of_case if getattr(case, "tokens", False) else tensors_of_case)(case)
        path = os.path.join(DATA, case.__name__ + ".safetensors")
        write_safetensors(path, tensors, metadata)
        size = os.path.getsize(path)
        total += size
        print(f"{case.__name__:34} {size:9,}  {report['output']:.3f}, {report['grads']:.3f}")
    print(f"{'total':34} {total:9,}")


if __name__ == "__main__":
    main()
