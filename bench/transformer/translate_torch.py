#!/usr/bin/python3
"""PyTorch reference trainer for the character-level German-to-English Transformer.

Reads the train and held-out TSV files written by bench/transformer/TranslateData (german<TAB>english per line),
encodes them with the same fixed vocabulary as GraphCompiler's CharVocabulary, trains the Translator below on
batches in the same order as GraphCompiler's TranslationBatches (SplitMix64 + Fisher-Yates, one permutation per
epoch, incomplete last batch skipped), then reports the held-out loss, exact-match accuracy and character error rate
with greedy decoding. See bench/transformer/README.md for the command lines.

Needs only Debian's python3 with python3-torch (1.13) and python3-numpy; the safetensors files are read and written
by the small functions below.
"""

import argparse
import json
import math
import struct
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --- The vocabulary: mirrors src/GraphCompiler/Data/CharVocabulary.cs exactly. ---------------------------------------
PAD, BOS, EOS, UNK = 0, 1, 2, 3
FIRST_CHARACTER = 4
CHARACTERS = " '-.,abcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00fc\u00df\u00e9"  # space ' - . , a-z ä ö ü ß é
VOCAB_SIZE = 48  # 4 + 36 = 40 tokens, rounded up to a multiple of 16
MAX_LENGTH = 20  # TranslationPairs.MaxLength: up to 19 characters + EOS (or BOS + 19 characters)
MAX_CHARACTERS = MAX_LENGTH - 1
CHAR_TO_ID = {c: FIRST_CHARACTER + i for i, c in enumerate(CHARACTERS)}

# --- SplitMix64 and the shared orders: mirror src/GraphCompiler/Data/SplitMix64.cs and TranslationPairs.cs. -----------
MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
SPLIT_SEED = 20220421  # TranslationPairs.SplitSeed
HELDOUT_DIVISOR = 20  # 5 %
MAX_HELDOUT = 2000


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + GAMMA) & MASK64
        return mix64(self.state)


def permutation(count, seed):
    """0..count-1 shuffled by Fisher-Yates: for i from count-1 down to 1, swap i with next() % (i + 1)."""
    order = list(range(count))
    rng = SplitMix64(seed)
    for i in range(count - 1, 0, -1):
        j = rng.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def batch_order(count, epoch, seed):
    """Epoch `epoch`'s order: the permutation seeded with output number `epoch` of SplitMix64(seed)."""
    return permutation(count, mix64((seed + GAMMA * (epoch + 1)) & MASK64))


def split(pairs, seed=SPLIT_SEED):
    """(train, heldout): the first min(n // 20, 2000) indices of permutation(n, seed) are held out; order kept."""
    held_count = min(MAX_HELDOUT, len(pairs) // HELDOUT_DIVISOR)
    held = set(permutation(len(pairs), seed)[:held_count])
    return ([p for i, p in enumerate(pairs) if i not in held], [p for i, p in enumerate(pairs) if i in held])


class Batches:
    """Step s takes batch s % per_epoch of epoch s // per_epoch (as GraphCompiler's TranslationBatches)."""

    def __init__(self, count, batch, seed):
        self.count, self.batch, self.seed = count, batch, seed
        self.per_epoch = count // batch
        if self.per_epoch == 0:
            raise SystemExit(f"{count} training pairs do not fill one batch of {batch}")
        self._epoch, self._order = -1, None

    def indices(self, step):
        epoch = step // self.per_epoch
        if epoch != self._epoch:
            self._epoch, self._order = epoch, batch_order(self.count, epoch, self.seed)
        b = step % self.per_epoch
        return self._order[b * self.batch:(b + 1) * self.batch]


# --- Data ---------------------------------------------------------------------------------------------------------------
def is_usable(text):
    return 1 <= len(text) <= MAX_CHARACTERS and all(c in CHAR_TO_ID for c in text)


def read_tsv(path):
    pairs = []
    with open(path, encoding="utf-8", newline="\n") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or not is_usable(fields[0]) or not is_usable(fields[1]):
                raise SystemExit(f"{path}, line {number}: expected german<TAB>english, 1 to {MAX_CHARACTERS} "
                                 f"characters of {CHARACTERS!r} each")
            pairs.append((fields[0], fields[1]))
    return pairs


def encode(pairs):
    """(src, tgt_in, tgt_out), each (N, 20) int64: chars+EOS+PAD, BOS+chars+PAD, chars+EOS+PAD."""
    n = len(pairs)
    src = torch.full((n, MAX_LENGTH), PAD, dtype=torch.long)
    tgt_in = torch.full((n, MAX_LENGTH), PAD, dtype=torch.long)
    tgt_out = torch.full((n, MAX_LENGTH), PAD, dtype=torch.long)
    for i, (german, english) in enumerate(pairs):
        g = [CHAR_TO_ID[c] for c in german]
        e = [CHAR_TO_ID[c] for c in english]
        src[i, :len(g) + 1] = torch.tensor(g + [EOS])
        tgt_in[i, :len(e) + 1] = torch.tensor([BOS] + e)
        tgt_out[i, :len(e) + 1] = torch.tensor(e + [EOS])
    return src, tgt_in, tgt_out


def decode(ids):
    """Characters up to the first EOS or PAD, BOS skipped, anything else '?' (CharVocabulary.Decode)."""
    text = []
    for t in ids:
        if t in (EOS, PAD):
            break
        if t != BOS:
            k = t - FIRST_CHARACTER
            text.append(CHARACTERS[k] if 0 <= k < len(CHARACTERS) else "?")
    return "".join(text)


# --- Metrics: mirror src/GraphCompiler/Data/TranslationMetrics.cs. --------------------------------------------------------
def levenshtein(a, b):
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            above = row[j]
            row[j] = min(diagonal + (a[i - 1] != b[j - 1]), above + 1, row[j - 1] + 1)
            diagonal = above
    return row[len(b)]


def exact_match(predictions, references):
    return sum(p == r for p, r in zip(predictions, references)) / len(references) if references else 0.0


def character_error_rate(predictions, references):
    characters = sum(len(r) for r in references)
    return sum(levenshtein(p, r) for p, r in zip(predictions, references)) / characters if characters else 0.0


# --- The model ----------------------------------------------------------------------------------------------------------
def causal_mask(t):
    """(T, T) bool, True above the diagonal: position i may not attend to j > i."""
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


def positional_encoding(max_len, d_model):
    """pe[p, 2i] = sin(p / 10000^(2i/d)), pe[p, 2i+1] = cos(p / 10000^(2i/d)); (max_len, d_model)."""
    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    rate = torch.pow(10000.0, -torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * rate)
    pe[:, 1::2] = torch.cos(position * rate)
    return pe.float()


class Translator(nn.Module):
    def __init__(self, vocab=VOCAB_SIZE, d_model=64, nhead=4, layers=2, ff=256, dropout=0.1, max_len=MAX_LENGTH):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(vocab, d_model)
        self.tgt_embed = nn.Embedding(vocab, d_model)
        # ReLU, post-norm (PyTorch's defaults); nn.Transformer adds a final LayerNorm to the encoder and the decoder.
        self.transformer = nn.Transformer(d_model, nhead, layers, layers, ff, dropout, batch_first=True)
        self.generator = nn.Linear(d_model, vocab)
        # A constant, not a parameter: left out of the state_dict, so the checkpoints hold parameters only.
        self.register_buffer("pe", positional_encoding(max_len, d_model), persistent=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, src, tgt_in):
        s, t = src.shape[1], tgt_in.shape[1]
        x = self.drop(self.src_embed(src) * math.sqrt(self.d_model) + self.pe[:s])
        y = self.drop(self.tgt_embed(tgt_in) * math.sqrt(self.d_model) + self.pe[:t])
        out = self.transformer(x, y, tgt_mask=causal_mask(t), src_key_padding_mask=(src == PAD),
                               tgt_key_padding_mask=(tgt_in == PAD), memory_key_padding_mask=(src == PAD))
        return F.log_softmax(self.generator(out), -1)


def loss_of(logp, tgt_out):
    """Mean negative log-likelihood over the non-PAD targets."""
    return F.nll_loss(logp.reshape(-1, logp.shape[-1]), tgt_out.reshape(-1), ignore_index=PAD)


# --- safetensors (F32 only), without the safetensors package ---------------------------------------------------------
def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
    (header_length,) = struct.unpack("<Q", data[:8])
    if 8 + header_length > len(data):
        raise SystemExit(f"{path}: header length {header_length} runs past the end of the file")
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    body = data[8 + header_length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: tensor {name} is {info['dtype']}; only F32 is read")
        begin, end = info["data_offsets"]
        shape = info["shape"]
        if end - begin != 4 * int(np.prod(shape, dtype=np.int64)) or end > len(body):
            raise SystemExit(f"{path}: tensor {name} has data_offsets {begin}..{end} that do not fit shape {shape}")
        array = np.frombuffer(body, dtype="<f4", count=(end - begin) // 4, offset=begin).reshape(shape)
        tensors[name] = torch.from_numpy(array.astype(np.float32))
    return tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        blob = tensors[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # aligned data, as the safetensors writers do
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load_initial_weights(model, path):
    tensors = read_safetensors(path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise SystemExit(f"{path}: missing {missing}, unexpected {unexpected}")
    for name, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise SystemExit(f"{path}: {name} has shape {tuple(tensor.shape)}, the model {tuple(expected[name].shape)}")
    model.load_state_dict(tensors, strict=True)


# --- Evaluation ---------------------------------------------------------------------------------------------------------
@torch.no_grad()
def heldout_loss(model, data, batch=256):
    model.eval()
    src, tgt_in, tgt_out = data
    total, count = 0.0, 0
    for b in range(0, src.shape[0], batch):
        logp = model(src[b:b + batch], tgt_in[b:b + batch])
        target = tgt_out[b:b + batch]
        total += F.nll_loss(logp.reshape(-1, logp.shape[-1]), target.reshape(-1), ignore_index=PAD, reduction="sum").item()
        count += int((target != PAD).sum())
    model.train()
    return total / count


@torch.no_grad()
def greedy_translate(model, src, batch=256):
    """Greedy decoding: BOS, then the most likely token at each step, at most 20 tokens, until every row has EOS."""
    model.eval()
    texts = []
    for b in range(0, src.shape[0], batch):
        s = src[b:b + batch]
        tokens = torch.full((s.shape[0], 1), BOS, dtype=torch.long)
        done = torch.zeros(s.shape[0], dtype=torch.bool)
        for _ in range(MAX_LENGTH):
            logp = model(s, tokens)
            next_token = logp[:, -1].argmax(-1)
            tokens = torch.cat([tokens, next_token.unsqueeze(1)], dim=1)
            done |= (next_token == EOS) | (next_token == PAD)
            if bool(done.all()):
                break
        texts.extend(decode(row.tolist()) for row in tokens)
    model.train()
    return texts


# --- Checks shared with the C# side -----------------------------------------------------------------------------------
def self_test():
    """The figures that tests/GraphCompiler.Tests/Data/TranslationPairsTests.cs asserts on the C# side."""
    rng = SplitMix64(1234567)  # SplitMix64's published test vector
    assert [rng.next() for _ in range(5)] == [6457827717110365317, 3203168211198807973, 9817491932198370423,
                                              4593380528125082431, 16408922859458223821]
    assert permutation(10, 42) == [0, 9, 5, 8, 6, 4, 7, 2, 1, 3]
    assert batch_order(10, 0, 1) == [4, 2, 1, 3, 7, 9, 5, 0, 6, 8]
    assert batch_order(10, 1, 1) == [8, 3, 1, 9, 4, 5, 7, 2, 0, 6]
    assert batch_order(10, 0, 2) == [9, 5, 3, 7, 4, 8, 1, 0, 2, 6]
    numbered = [(f"wort {i}", f"word {i}") for i in range(100)]
    assert [numbered.index(p) for p in split(numbered)[1]] == [11, 34, 59, 60, 90]
    batches = Batches(10, 3, 1)
    assert (batches.indices(0), batches.indices(2), batches.indices(3)) == ([4, 2, 1], [5, 0, 6], [8, 3, 1])
    src, tgt_in, tgt_out = encode([("stra\u00dfe", "street")])
    assert src[0].tolist() == [27, 28, 26, 9, 38, 13, 2] + [0] * 13
    assert tgt_in[0].tolist() == [1, 27, 28, 26, 13, 13, 28] + [0] * 13
    assert tgt_out[0].tolist() == [27, 28, 26, 13, 13, 28, 2] + [0] * 13
    assert decode([BOS, 9, UNK, 10, 45, EOS, 9]) == "a?b?"
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("stra\u00dfe", "strasse") == 2
    assert abs(character_error_rate(["house", "kitten", "dogs"], ["house", "sitting", "dog"]) - 4 / 15) < 1e-12
    assert abs(exact_match(["house", "kitten", "dogs"], ["house", "sitting", "dog"]) - 1 / 3) < 1e-12
    print("self-test passed: SplitMix64, permutation, batch order, split, encoding, metrics agree with the C# tests")


def check_order(path, train, heldout):
    """Compares order.json (written by TranslateData from the C# side) with this script's own computation."""
    with open(path) as f:
        expected = json.load(f)
    count = len(train) + len(heldout)
    batches = Batches(len(train), expected["batch"], expected["seed"])
    src = encode([train[batches.indices(0)[0]]])[0][0].tolist()
    actual = {
        "split_seed": SPLIT_SEED,
        "pairs": count,
        "train": len(train),
        "heldout": len(heldout),
        "split_first_heldout": permutation(count, SPLIT_SEED)[:16],
        "seed": expected["seed"],
        "batch": expected["batch"],
        "batches_per_epoch": batches.per_epoch,
        "epoch0_order_first": batch_order(len(train), 0, expected["seed"])[:64],
        "epoch1_order_first": batch_order(len(train), 1, expected["seed"])[:64],
        "step0_source": src,
        "last_step_of_epoch0_indices": batches.indices(batches.per_epoch - 1),
        "first_step_of_epoch1_indices": batches.indices(batches.per_epoch),
    }
    differences = [k for k in expected if expected[k] != actual.get(k)]
    if differences:
        raise SystemExit(f"order check FAILED: {path} and this script differ in {differences}")
    print(f"order check passed: {len(expected)} figures of {path} agree (split of {count} pairs, "
          f"{batches.per_epoch} batches of {expected['batch']} per epoch, seed {expected['seed']})")


# --- Training -----------------------------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", help="train.tsv")
    parser.add_argument("--heldout", help="heldout.tsv")
    parser.add_argument("--steps", type=int, default=3000, help="training steps (default 3000)")
    parser.add_argument("--batch", type=int, default=32, help="pairs per batch (default 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--beta1", type=float, default=0.9, help="Adam beta1 (default 0.9)")
    parser.add_argument("--beta2", type=float, default=0.98, help="Adam beta2 (default 0.98)")
    parser.add_argument("--eps", type=float, default=1e-9, help="Adam epsilon (default 1e-9)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the initial weights and the batch order (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--init", help="initial weights (.safetensors with the state_dict names) instead of PyTorch's init")
    parser.add_argument("--save", help="write the trained weights here (.safetensors, state_dict names)")
    parser.add_argument("--eval-every", type=int, default=0, help="held-out loss every N steps (default 0: only at the end)")
    parser.add_argument("--log-every", type=int, default=100, help="training loss every N steps (default 100)")
    parser.add_argument("--examples", type=int, default=10, help="held-out translations to print (default 10)")
    parser.add_argument("--out", help="JSON summary path")
    parser.add_argument("--self-test", action="store_true", help="check the shared orders, encoding and metrics, then exit")
    parser.add_argument("--check-order", metavar="ORDER_JSON",
                        help="compare TranslateData's order.json with this script's split and batch order, then exit")
    parser.add_argument("--list-parameters", action="store_true", help="print the state_dict names and shapes, then exit")
    args = parser.parse_args()

    # nn.TransformerEncoder's inference fast path (torch 1.13) warns that nested tensors are a prototype; harmless.
    warnings.filterwarnings("ignore", message="The PyTorch API of nested tensors is in prototype stage")
    if args.self_test:
        self_test()
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Translator()
    if args.list_parameters:
        for name, tensor in model.state_dict().items():
            print(f"{name}\t{list(tensor.shape)}")
        print(f"total\t{sum(t.numel() for t in model.state_dict().values())}")
        return
    if not args.train or not args.heldout:
        parser.error("--train and --heldout are required")

    train_pairs, heldout_pairs = read_tsv(args.train), read_tsv(args.heldout)
    if args.check_order:
        check_order(args.check_order, train_pairs, heldout_pairs)
        return
    if args.init:
        load_initial_weights(model, args.init)
    train, heldout = encode(train_pairs), encode(heldout_pairs)
    batches = Batches(len(train_pairs), args.batch, args.seed)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {args.threads} thread(s); {len(train_pairs)} train / {len(heldout_pairs)} held-out "
          f"pairs; {parameters} parameters; {args.steps} steps of {args.batch} ({batches.per_epoch} per epoch)")

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
    model.train()
    history, recent, train_seconds = [], [], 0.0
    for step in range(args.steps):
        start = time.perf_counter()
        index = torch.tensor(batches.indices(step))
        logp = model(train[0][index], train[1][index])
        loss = loss_of(logp, train[2][index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        train_seconds += time.perf_counter() - start
        recent.append(loss.item())
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            mean = sum(recent) / len(recent)
            print(f"step {step + 1}: train loss {mean:.4f} (mean of the last {len(recent)}), "
                  f"{1000 * train_seconds / (step + 1):.1f} ms/step", flush=True)
            history.append({"step": step + 1, "train_loss": mean})
            recent = []
        if args.eval_every and (step + 1) % args.eval_every == 0 and step + 1 != args.steps:
            loss_h = heldout_loss(model, heldout)
            print(f"step {step + 1}: held-out loss {loss_h:.4f}", flush=True)
            history.append({"step": step + 1, "heldout_loss": loss_h})

    start = time.perf_counter()
    final_loss = heldout_loss(model, heldout)
    predictions = greedy_translate(model, heldout[0])
    references = [e for _, e in heldout_pairs]
    accuracy, cer = exact_match(predictions, references), character_error_rate(predictions, references)
    eval_seconds = time.perf_counter() - start
    ms_per_step = 1000 * train_seconds / max(args.steps, 1)
    print(f"held-out: loss {final_loss:.4f}, exact match {accuracy:.4f}, CER {cer:.4f} "
          f"({len(heldout_pairs)} pairs, greedy decoding, {eval_seconds:.1f} s)")
    print(f"training: {ms_per_step:.1f} ms/step at batch {args.batch} on {args.threads} thread(s)")
    examples = []
    for (german, english), predicted in list(zip(heldout_pairs, predictions))[:args.examples]:
        print(f"  {german} -> {predicted}   (reference: {english})")
        examples.append({"german": german, "reference": english, "predicted": predicted})

    if args.save:
        write_safetensors(args.save, model.state_dict())
    if args.out:
        summary = {
            "torch": torch.__version__, "threads": args.threads, "seed": args.seed, "steps": args.steps,
            "batch": args.batch, "lr": args.lr, "betas": [args.beta1, args.beta2], "eps": args.eps,
            "init": args.init, "train_pairs": len(train_pairs), "heldout_pairs": len(heldout_pairs),
            "parameters": parameters, "ms_per_step": ms_per_step, "heldout_loss": final_loss,
            "exact_match": accuracy, "cer": cer, "history": history, "examples": examples,
        }
        with open(args.out, "w") as f:
            json.dump(summary, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
