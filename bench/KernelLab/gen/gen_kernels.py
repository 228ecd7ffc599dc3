#!/usr/bin/env python3
"""Emits the kernel variants of the lab (Generated/*.g.cs).

This script plays the role of the Roslyn generator: every kernel it writes is
shape-specialized (all sizes are literals), uses raw pointers, explicitly
unrolled register tiles with one named local per accumulator, and no
allocation. Run `python3 gen/gen_kernels.py` from bench/KernelLab after editing
the variant lists at the bottom; the output is committed so it can be read.
"""
import os

VT = {512: ("Vector512", 16), 256: ("Vector256", 8), 128: ("Vector128", 4)}
ATTR = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]"
# emission options toggled per variant: MAX = "Max" (IEEE semantics) or "MaxNative" (plain vmaxps);
# BUMP = advance xq/wq pointers instead of recomputing them from an int index each step.
OPT = {"max": "Max", "bump": False}


class W:
    def __init__(self):
        self.lines = []
        self.ind = 0

    def __call__(self, s=""):
        self.lines.append(("    " * self.ind + s) if s else "")

    def open(self, s):
        self(s)
        self("{")
        self.ind += 1

    def close(self, s="}"):
        self.ind -= 1
        self(s)


# ---------------------------------------------------------------------------
# 3x3 convolution, stride 1, input zero-padded [(H+2)][(Wd+2)][Cin] (NHWC),
# weights packed [kh][kw][ci][co], + bias + ReLU, optionally fused 2x2 max-pool.
# Tile = TR output rows x TC output columns x CB vectors of output channels.
#   form "nested": for kh { for kw { for ci } }            (ci loop unrolled by U)
#   form "fused" : for kh { for k in 0..3*Cin }            (kw and ci are contiguous
#                   in both the padded NHWC row and the packed weights)
#   form "taps"  : for ci { 9 taps unrolled, constant offsets }
# out: pooled -> y[OUTOFF + py*OUTRS + px*Cout + c]; plain -> y[(oy*Wd+ox)*Cout + c]
# ---------------------------------------------------------------------------
def conv(w, name, width, Cin, Cout, H, Wd, TR, TC, CB, form, U, pool, outoff=0, outrs=None):
    V, VL = VT[width]
    INW = Wd + 2
    NCB = Cout // (CB * VL)
    assert Cout % (CB * VL) == 0
    if outrs is None:
        outrs = (Wd // 2) * Cout
    full = Wd // TC
    rem = Wd % TC
    if pool:
        assert TR == 2 and TC % 2 == 0 and rem % 2 == 0

    w(f"/// <summary>conv3x3 {Cin}->{Cout} on {H}x{Wd}, tile {TR}x{TC} px x {CB} {V}, form {form}, unroll {U}, "
      f"{'fused 2x2 max-pool' if pool else 'no pool'}; {TR*TC*CB} accumulators.</summary>")
    w(ATTR)
    w.open(f"public static void {name}(float* x, float* w, float* b, float* y)")
    cb_loop = NCB > 1
    if cb_loop:
        w.open(f"for (int cb = 0; cb < {NCB}; cb++)")
        w(f"float* wc = w + cb * {CB*VL};")
        w(f"float* bc = b + cb * {CB*VL};")
        w(f"float* yc = y + cb * {CB*VL};")
    else:
        w("float* wc = w; float* bc = b; float* yc = y;")
    w.open(f"for (int oy = 0; oy < {H}; oy += {TR})")
    if full > 0:
        if full > 1:
            w.open(f"for (int ox = 0; ox < {full*TC}; ox += {TC})")
        else:
            w("{ int ox = 0;")
            w.ind += 1
        conv_tile(w, V, VL, Cin, Cout, INW, Wd, TR, TC, CB, form, U, pool, outoff, outrs)
        w.close()
    if rem:
        w("{")
        w.ind += 1
        w(f"const int ox = {full*TC};")
        conv_tile(w, V, VL, Cin, Cout, INW, Wd, TR, rem, CB, form, U, pool, outoff, outrs)
        w.close()
    w.close()
    if cb_loop:
        w.close()
    w.close()
    w()


def conv_tile(w, V, VL, Cin, Cout, INW, Wd, TR, TC, CB, form, U, pool, outoff, outrs):
    accs = [(r, c, v) for r in range(TR) for c in range(TC) for v in range(CB)]
    an = lambda r, c, v: f"a{r}{c}_{v}"
    w(f"float* xb = x + (oy * {INW} + ox) * {Cin};")
    for (r, c, v) in accs:
        w(f"var {an(r,c,v)} = {V}<float>.Zero;")

    def body(xexpr_base, wexpr_base, u_xoff, u_woff):
        # one reduction step: CB weight vectors, TR*TC broadcasts, TR*TC*CB FMAs
        # (own block scope so unrolled steps can reuse the names w0.., x00..)
        w("{")
        w.ind += 1
        for v in range(CB):
            w(f"var w{v} = {V}.Load({wexpr_base} + {u_woff + v*VL});")
        for r in range(TR):
            for c in range(TC):
                off = u_xoff + (r * INW + c) * Cin
                w(f"var x{r}{c} = {V}.Create({xexpr_base}[{off}]);")
                for v in range(CB):
                    a = an(r, c, v)
                    w(f"{a} = {V}.FusedMultiplyAdd(x{r}{c}, w{v}, {a});")
        w.close()

    def kloop(var, n, xptr, wptr):
        # for var in 0..n step U: body with xptr[var + u + pixoff], wptr + (var+u)*Cout
        if n == U:
            for u in range(U):
                body(xptr, wptr, u, u * Cout)
            return
        if OPT["bump"]:
            w(f"float* xq = {xptr};")
            w(f"float* wq = {wptr};")
            w.open(f"for (int {var} = 0; {var} < {n}; {var} += {U})")
            for u in range(U):
                body("xq", "wq", u, u * Cout)
            w(f"xq += {U};")
            w(f"wq += {U*Cout};")
            w.close()
            return
        w.open(f"for (int {var} = 0; {var} < {n}; {var} += {U})")
        w(f"float* xq = {xptr} + {var};")
        w(f"float* wq = {wptr} + {var} * {Cout};")
        for u in range(U):
            body("xq", "wq", u, u * Cout)
        w.close()

    if form == "nested":
        w.open("for (int kh = 0; kh < 3; kh++)")
        w.open("for (int kw = 0; kw < 3; kw++)")
        w(f"float* xp = xb + (kh * {INW} + kw) * {Cin};")
        w(f"float* wp = wc + (kh * 3 + kw) * {Cin*Cout};")
        kloop("ci", Cin, "xp", "wp")
        w.close()
        w.close()
    elif form == "fused":
        w.open("for (int kh = 0; kh < 3; kh++)")
        w(f"float* xp = xb + kh * {INW*Cin};")
        w(f"float* wp = wc + kh * {3*Cin*Cout};")
        kloop("k", 3 * Cin, "xp", "wp")
        w.close()
    elif form == "taps":
        if Cin != U:
            w.open(f"for (int ci = 0; ci < {Cin}; ci += {U})")
            w("float* xq = xb + ci;")
            w(f"float* wq = wc + ci * {Cout};")
            xp, wp = "xq", "wq"
        else:
            xp, wp = "xb", "wc"
        for kh in range(3):
            for kw in range(3):
                for u in range(U):
                    body(xp, wp, (kh * INW + kw) * Cin + u, ((kh * 3 + kw) * Cin + u) * Cout)
        if Cin != U:
            w.close()
    else:
        raise ValueError(form)

    # epilogue
    for v in range(CB):
        w(f"var b{v} = {V}.Load(bc + {v*VL});")
    if pool:
        for pc in range(TC // 2):
            for v in range(CB):
                M = f"{V}.{OPT['max']}"
                m = (f"{M}({M}({an(0,2*pc,v)}, {an(0,2*pc+1,v)}), "
                     f"{M}({an(1,2*pc,v)}, {an(1,2*pc+1,v)}))")
                w(f"{M}({m} + b{v}, {V}<float>.Zero)"
                  f".Store(yc + {outoff} + (oy >> 1) * {outrs} + ((ox >> 1) + {pc}) * {Cout} + {v*VL});")
    else:
        for (r, c, v) in accs:
            w(f"{V}.{OPT['max']}({an(r,c,v)} + b{v}, {V}<float>.Zero)"
              f".Store(yc + ((oy + {r}) * {Wd} + ox + {c}) * {Cout} + {v*VL});")


def maxpool(w, name, width, C, H, Wd, outoff, outrs):
    """2x2 max-pool of a plain [H][Wd][C] NHWC tensor (values already ReLU'd)."""
    V, VL = VT[width]
    w(ATTR)
    w.open(f"public static void {name}(float* x, float* y)")
    w.open(f"for (int py = 0; py < {H//2}; py++)")
    w.open(f"for (int px = 0; px < {Wd//2}; px++)")
    w(f"float* p = x + (2 * py * {Wd} + 2 * px) * {C};")
    w(f"float* q = y + {outoff} + py * {outrs} + px * {C};")
    for v in range(C // VL):
        o = v * VL
        w(f"{V}.Max({V}.Max({V}.Load(p + {o}), {V}.Load(p + {C + o})), "
          f"{V}.Max({V}.Load(p + {Wd*C + o}), {V}.Load(p + {Wd*C + C + o}))).Store(q + {o});")
    w.close()
    w.close()
    w.close()
    w()


# ---------------------------------------------------------------------------
# Linear y[m][n] = act(b[n] + sum_k x[m][k] w[n][k])
# "dot": W row-major [N][K] (PyTorch layout), vectorize along K, tile MR x NR,
#        horizontal sum at the end.
# "kn" : W packed [K][N], vectorize along N, broadcast x[m][k], tile MR x NRV
#        vectors, optional K blocking (KC) with accumulation through y.
# ---------------------------------------------------------------------------
def lin_dot(w, name, width, B, K, N, MR, NR, relu, U=1):
    V, VL = VT[width]
    assert K % (VL * U) == 0 and B % MR == 0 and N % NR == 0
    an = lambda m, n: f"a{m}_{n}"
    w(f"/// <summary>linear {K}->{N}, batch {B}, dot form, tile {MR}x{NR}, {V}.</summary>")
    w(ATTR)
    w.open(f"public static void {name}(float* x, float* w, float* b, float* y)")
    w.open(f"for (int m0 = 0; m0 < {B}; m0 += {MR})")
    w.open(f"for (int n0 = 0; n0 < {N}; n0 += {NR})")
    w(f"float* xp = x + m0 * {K};")
    w(f"float* wp = w + n0 * {K};")
    for m in range(MR):
        for n in range(NR):
            w(f"var {an(m,n)} = {V}<float>.Zero;")
    w.open(f"for (int k = 0; k < {K}; k += {VL*U})")
    for u in range(U):
        if U > 1:
            w("{")
            w.ind += 1
        for n in range(NR):
            w(f"var w{n} = {V}.Load(wp + k + {n*K + u*VL});")
        for m in range(MR):
            w(f"var x{m} = {V}.Load(xp + k + {m*K + u*VL});")
            for n in range(NR):
                w(f"{an(m,n)} = {V}.FusedMultiplyAdd(x{m}, w{n}, {an(m,n)});")
        if U > 1:
            w.close()
    w.close()
    for m in range(MR):
        for n in range(NR):
            s = f"{V}.Sum({an(m,n)}) + b[n0 + {n}]"
            if relu:
                s = f"MathF.Max({s}, 0f)"
            w(f"y[(m0 + {m}) * {N} + n0 + {n}] = {s};")
    w.close()
    w.close()
    w.close()
    w()


def lin_kn(w, name, width, B, K, N, MR, NRV, relu, KC=None, U=1):
    V, VL = VT[width]
    KC = KC or K
    assert N % VL == 0 and K % KC == 0 and KC % U == 0
    nkb = K // KC
    an = lambda m, n: f"a{m}_{n}"
    w(f"/// <summary>linear {K}->{N}, batch {B}, [K][N] form, tile {MR} rows x {NRV} {V}, K block {KC}"
      f"{' (with remainder tiles)' if B % MR or (N // VL) % NRV else ''}.</summary>")
    w(ATTR)
    w.open(f"public static void {name}(float* x, float* w, float* b, float* y)")
    if nkb > 1:
        w.open(f"for (int k0 = 0; k0 < {K}; k0 += {KC})")
    else:
        w("const int k0 = 0;")

    def tile(mr, nrv):
        w(f"float* xp = x + m0 * {K} + k0;")
        w(f"float* wp = w + k0 * {N} + n0;")
        w(f"float* yp = y + m0 * {N} + n0;")
        if nkb > 1:
            w("if (k0 == 0)")
            w("{")
            w.ind += 1
        for m in range(mr):
            for n in range(nrv):
                w(f"var {an(m,n)} = {V}.Load(b + n0 + {n*VL});" if nkb == 1 else
                  f"{V}.Load(b + n0 + {n*VL}).Store(yp + {m*N + n*VL});")
        if nkb > 1:
            w.close()
            for m in range(mr):
                for n in range(nrv):
                    w(f"var {an(m,n)} = {V}.Load(yp + {m*N + n*VL});")
        w.open(f"for (int k = 0; k < {KC}; k += {U})")
        w(f"float* wq = wp + k * {N};")
        for u in range(U):
            if U > 1:
                w("{")
                w.ind += 1
            for n in range(nrv):
                w(f"var w{n} = {V}.Load(wq + {u*N + n*VL});")
            for m in range(mr):
                w(f"var x{m} = {V}.Create(xp[k + {m*K + u}]);")
                for n in range(nrv):
                    w(f"{an(m,n)} = {V}.FusedMultiplyAdd(x{m}, w{n}, {an(m,n)});")
            if U > 1:
                w.close()
        w.close()
        last = "k0 == " + str(K - KC)
        for m in range(mr):
            for n in range(nrv):
                a = an(m, n)
                if relu and nkb > 1:
                    w(f"if ({last}) {a} = {V}.{OPT['max']}({a}, {V}<float>.Zero);")
                elif relu:
                    w(f"{a} = {V}.{OPT['max']}({a}, {V}<float>.Zero);")
                w(f"{a}.Store(yp + {m*N + n*VL});")

    def mloop(nrv):
        mf, mrem = B // MR, B % MR
        if mf:
            w.open(f"for (int m0 = 0; m0 < {mf*MR}; m0 += {MR})")
            tile(MR, nrv)
            w.close()
        if mrem:
            w("{")
            w.ind += 1
            w(f"const int m0 = {mf*MR};")
            tile(mrem, nrv)
            w.close()

    nv = N // VL
    nf, nrem = nv // NRV, nv % NRV
    if nf:
        w.open(f"for (int n0 = 0; n0 < {nf*NRV*VL}; n0 += {NRV*VL})")
        mloop(NRV)
        w.close()
    if nrem:
        w("{")
        w.ind += 1
        w(f"const int n0 = {nf*NRV*VL};")
        mloop(nrem)
        w.close()
    if nkb > 1:
        w.close()
    w.close()
    w()


def header(w, cls):
    w("// <auto-generated> by gen/gen_kernels.py; do not edit by hand. </auto-generated>")
    w("using System.Runtime.CompilerServices;")
    w("using System.Runtime.Intrinsics;")
    w()
    w("namespace KernelLab;")
    w()
    w.open(f"public static unsafe partial class {cls}")


REG = []  # (category, name, width, description)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "Generated")
    os.makedirs(out, exist_ok=True)

    # ---------------- conv2: 32->64 on 14x14, pooled to 7x7x64 ----------------
    w = W()
    header(w, "Conv2K")
    c2 = []
    # (width, TR, TC, CB, form, U, pool)
    c2 += [(512, 2, 2, 4, "nested", 1, True), (512, 2, 2, 4, "nested", 4, True),
           (512, 2, 2, 4, "fused", 1, True), (512, 2, 2, 4, "fused", 4, True),
           (512, 2, 2, 4, "taps", 1, True), (512, 2, 2, 4, "taps", 2, True),
           (512, 2, 4, 2, "fused", 1, True), (512, 2, 4, 2, "fused", 4, True),
           (512, 2, 6, 2, "fused", 1, True), (512, 2, 6, 2, "fused", 4, True),
           (512, 1, 6, 4, "fused", 1, False), (512, 1, 7, 4, "fused", 1, False),
           (512, 1, 7, 4, "fused", 4, False),
           (512, 2, 2, 2, "fused", 1, True), (512, 2, 2, 2, "fused", 4, True),
           # 256-bit: 64 channels = 8 ymm vectors
           (256, 2, 2, 2, "nested", 1, True), (256, 2, 2, 2, "fused", 1, True),
           (256, 2, 2, 2, "fused", 4, True), (256, 2, 2, 2, "taps", 2, True),
           (256, 2, 4, 1, "fused", 4, True), (256, 1, 6, 2, "fused", 4, False),
           (256, 2, 2, 4, "fused", 4, True),  # 16 accumulators: fine with 32 regs, spills with 16
           (256, 2, 4, 2, "fused", 4, True),  # 16 accumulators
           (256, 2, 6, 2, "fused", 4, True),  # 24 accumulators (needs the AVX-512 register file)
           # 128-bit once
           (128, 2, 2, 2, "fused", 4, True), (128, 2, 2, 4, "fused", 4, True),
           # pointer bumping and MaxNative epilogue
           (512, 2, 2, 4, "nested", 1, True, {"bump", "mxn"}), (512, 2, 2, 4, "fused", 4, True, {"bump", "mxn"}),
           (512, 2, 4, 2, "fused", 4, True, {"bump", "mxn"}), (512, 2, 6, 2, "fused", 4, True, {"bump", "mxn"}),
           (256, 2, 2, 2, "nested", 1, True, {"bump", "mxn"}), (256, 2, 2, 2, "nested", 2, True, {"bump", "mxn"}),
           (256, 2, 2, 2, "fused", 4, True, {"bump", "mxn"}), (256, 2, 2, 4, "fused", 4, True, {"bump", "mxn"}),
           (256, 2, 2, 4, "nested", 1, True, {"bump", "mxn"}),
           (128, 2, 2, 2, "nested", 1, True, {"bump", "mxn"})]
    for t in c2:
        opts = t[7] if len(t) > 7 else {}
        width, TR, TC, CB, form, U, pool = t[:7]
        name = f"Conv2_{TR}x{TC}c{CB}_{form}_u{U}_{width}" + "".join("_" + k for k in sorted(opts))
        OPT.update(max="MaxNative" if "mxn" in opts else "Max", bump="bump" in opts)
        conv(w, name, width, 32, 64, 14, 14, TR, TC, CB, form, U, pool)
        REG.append(("conv2" if pool else "conv2raw", name, width, f"{TR}x{TC}px x {CB}vec, {form}, ci-unroll {U}" + ("" if pool else " (+ separate pool)"), TR*TC*CB))
    maxpool(w, "Pool2_512", 512, 64, 14, 14, 0, 7 * 64)
    maxpool(w, "Pool2_256", 256, 64, 14, 14, 0, 7 * 64)
    w.close()
    open(os.path.join(out, "Conv2.g.cs"), "w").write("\n".join(w.lines) + "\n")

    # ---------------- conv1: 1->32 on 28x28 -> interior of [16][16][32] ----------------
    w = W()
    header(w, "Conv1K")
    c1 = [(512, 2, 2, 2, "taps", 1), (512, 2, 4, 2, "taps", 1), (512, 2, 6, 2, "taps", 1),
          (256, 2, 2, 2, "taps", 1), (256, 2, 2, 4, "taps", 1), (256, 2, 4, 2, "taps", 1),
          (128, 2, 2, 4, "taps", 1),
          (512, 2, 2, 2, "taps", 1, {"mxn"}), (512, 2, 6, 2, "taps", 1, {"mxn"}), (256, 2, 2, 2, "taps", 1, {"mxn"}),
          (256, 2, 2, 4, "taps", 1, {"mxn"})]
    for t in c1:
        opts = t[6] if len(t) > 6 else {}
        width, TR, TC, CB, form, U = t[:6]
        name = f"Conv1_{TR}x{TC}c{CB}_{form}_{width}" + "".join("_" + k for k in sorted(opts))
        OPT.update(max="MaxNative" if "mxn" in opts else "Max", bump="bump" in opts)
        conv(w, name, width, 1, 32, 28, 28, TR, TC, CB, form, U, True, outoff=(16 + 1) * 32, outrs=16 * 32)
        REG.append(("conv1", name, width, f"{TR}x{TC}px x {CB}vec, taps unrolled", TR*TC*CB))
    w.close()
    open(os.path.join(out, "Conv1.g.cs"), "w").write("\n".join(w.lines) + "\n")

    # ---------------- linear ----------------
    w = W()
    header(w, "LinK")
    # fc1 batch 1
    for (width, NR, U) in [(512, 2, 1), (512, 4, 1), (512, 8, 1), (256, 4, 1), (256, 8, 1), (128, 4, 1),
                           (512, 2, 2), (512, 4, 2), (256, 4, 2)]:
        name = f"Fc1b1_dot_1x{NR}_{width}" + (f"_u{U}" if U > 1 else "")
        lin_dot(w, name, width, 1, 3136, 128, 1, NR, True, U=U)
        REG.append(("fc1b1dot", name, width, f"dot 1x{NR}", NR))
    for (width, NRV, U) in [(512, 8, 1), (512, 4, 1), (512, 8, 2), (512, 8, 4), (256, 8, 1), (256, 4, 1), (256, 16, 1),
                         (256, 8, 4), (128, 8, 1)]:
        name = f"Fc1b1_kn_1x{NRV}v_u{U}_{width}"
        lin_kn(w, name, width, 1, 3136, 128, 1, NRV, True, U=U)
        REG.append(("fc1b1kn", name, width, f"[K][N] 1x{NRV}vec u{U}", NRV))
    # fc1 batch 64
    for (width, MR, NR) in [(512, 4, 4), (512, 2, 8), (512, 8, 2), (256, 4, 2), (256, 2, 4), (256, 4, 4)]:
        name = f"Fc1b64_dot_{MR}x{NR}_{width}"
        lin_dot(w, name, width, 64, 3136, 128, MR, NR, True)
        REG.append(("fc1b64dot", name, width, f"dot {MR}x{NR}", MR*NR))
    for (width, MR, NRV, KC) in [(512, 4, 4, None), (512, 4, 4, 448), (512, 4, 4, 196), (512, 8, 2, 448),
                                 (512, 8, 2, 196), (512, 2, 8, 448),
                                 (512, 16, 1, 448),
                                 (256, 4, 2, 448), (256, 2, 4, 448), (256, 8, 1, 448), (256, 4, 4, 448),
                                 (256, 8, 2, 448), (128, 4, 2, 448),
                                 # 12-accumulator tiles for 16-register AVX2 (remainder tiles in M or N)
                                 (256, 4, 3, 448), (256, 6, 2, 448), (256, 3, 4, 448), (256, 6, 2, 196)]:
        name = f"Fc1b64_kn_{MR}x{NRV}v_kc{KC or 3136}_{width}"
        lin_kn(w, name, width, 64, 3136, 128, MR, NRV, True, KC=KC)
        REG.append(("fc1b64kn", name, width, f"[K][N] {MR}x{NRV}vec, K block {KC or 3136}", MR*NRV))
    # fc2 (tiny)
    for (width, B, MR, NR) in [(512, 1, 1, 5), (256, 1, 1, 5), (128, 1, 1, 5), (512, 64, 2, 5), (256, 64, 2, 5), (128, 64, 2, 5)]:
        name = f"Fc2b{B}_dot_{MR}x{NR}_{width}"
        lin_dot(w, name, width, B, 128, 10, MR, NR, False)
        REG.append((f"fc2b{B}", name, width, f"dot {MR}x{NR}", MR*NR))
    w.close()
    open(os.path.join(out, "Linear.g.cs"), "w").write("\n".join(w.lines) + "\n")

    # ---------------- registry ----------------
    w = W()
    w("// <auto-generated> by gen/gen_kernels.py </auto-generated>")
    w("namespace KernelLab;")
    w()
    w.open("public static unsafe class Registry")
    w.open("public static readonly KernelInfo[] All =")
    for (cat, name, width, desc, nacc) in REG:
        cls = "Conv2K" if cat.startswith("conv2") else "Conv1K" if cat == "conv1" else "LinK"
        w(f'new("{cat}", "{name}", {width}, "{desc}", {nacc}, &{cls}.{name}),')
    w.close("};")
    w.close()
    open(os.path.join(out, "Registry.g.cs"), "w").write("\n".join(w.lines) + "\n")


if __name__ == "__main__":
    main()
