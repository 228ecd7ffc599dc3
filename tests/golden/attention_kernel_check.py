"""PyTorch values for AttentionKernelTests.Matches_PyTorch_multihead_attention (run by hand with the Debian python that has torch: /usr/bin/python3 attention_kernel_check.py).

nn.MultiheadAttention with identity input and output projections (so it computes only the scaled dot-product
attention that AttentionKernel fuses), batch_first, a float causal attn_mask (-inf above the diagonal, top-left
aligned for tq != tk) and a boolean key_padding_mask. Prints the expected outputs as C# array literals.
Inputs are formulas so that the C# test builds the same tensors without a data file.
"""
import math
import torch

torch.set_default_dtype(torch.float64)
tq, tk, heads, e = 4, 5, 2, 8


def data(rows, phase):
    return torch.tensor([[math.sin(0.37 * (r * e + c) + phase) * 1.5 for c in range(e)] for r in range(rows)])


q, k, v = data(tq, 0.1), data(tk, 0.7), data(tk, 1.3)
mha = torch.nn.MultiheadAttention(e, heads, bias=False, batch_first=True)
with torch.no_grad():
    mha.in_proj_weight.copy_(torch.cat([torch.eye(e)] * 3))
    mha.out_proj.weight.copy_(torch.eye(e))

causal = torch.triu(torch.full((tq, tk), float("-inf")), diagonal=1)
padding = torch.tensor([[False, False, False, True, False]])  # key 3 is padding
for name, mask, pad in [("None", None, None), ("Causal", causal, None), ("Both", causal, padding)]:
    out, _ = mha(q[None], k[None], v[None], attn_mask=mask, key_padding_mask=pad, need_weights=False)
    values = ", ".join(f"{x:.9g}f" for x in out[0].flatten().tolist())
    print(f"// {name}\n[{values}],")
