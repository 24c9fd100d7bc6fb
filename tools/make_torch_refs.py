#!/usr/bin/python3
"""Writes tests/data/torch_refs.txt: PyTorch reference values for the autograd engine's ops.

Run with Debian's python3-torch (the system python, not a pyenv):

    /usr/bin/python3 tools/make_torch_refs.py            # rewrites tests/data/torch_refs.txt
    /usr/bin/python3 tools/make_torch_refs.py --check    # exit 1 if the stored file is stale

Besides the hand-written cases below, every op of the op registry gets its cases from
tests/data/op_table.txt (written by `build/tools/ag_op_table > tests/data/op_table.txt`):
one line per op name in TORCH_OPS gives PyTorch's expression; a registered op missing there
stops this script, and a registered op without cases fails tests/test_op_table.cpp.

Every case builds one expression in float64 from deterministic inputs, and records the output
and the gradient of sum(output * W) with respect to each input, for a stored random weight W of
the output's shape (for scalar Value cases: the gradient of the output itself). The C++ test
tests/test_torch_refs.cpp rebuilds each case by name with the ag API and compares; it needs no
torch. Inputs and weights are exactly representable in float32, so the test's float32 pass sees
the very same inputs and only float32 arithmetic separates it from the reference.

File format (one record per line, whitespace-separated, numbers as Python repr: exact doubles):

    case NAME KIND                        KIND: tensor (Tensor output) or value (Value output)
    input NAME KIND DTYPE NDIM DIMS... VALUES...   KIND: tensor or value (a 0-d leaf Value)
    labels N L1 ... LN                    class labels for pick (optional)
    output DTYPE NDIM DIMS... VALUES...
    weight DTYPE NDIM DIMS... VALUES...   only for tensor cases: backward(weight)
    grad NAME DTYPE NDIM DIMS... VALUES...   one per input, same order
    end
"""
import argparse
import math
import os
import sys
import zlib

import torch

F64 = torch.float64
F32 = torch.float32
DTYPE_NAMES = {F64: "float64", F32: "float32"}


class Case:
    """Records the inputs of one case; the generator is seeded from the case name, so adding or
    reordering cases never changes another case's numbers."""

    def __init__(self, name, kind):
        self.name = name
        self.kind = kind
        self.gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        self.inputs = []  # (name, kind, tensor)
        self.labels = None

    def _leaf(self, name, kind, values, dtype=F64):
        # Round to float32-representable doubles: the float32 pass then has identical inputs.
        leaf = values.to(F32).to(dtype).detach().requires_grad_()
        assert torch.isfinite(leaf).all(), (self.name, name)
        self.inputs.append((name, kind, leaf))
        return leaf

    def randn(self, name, shape, scale=1.0, positive=False, away=(), margin=0.15, dtype=F64):
        """Normal values; `positive`: |x| + 0.5 (logs, roots, divisors, pow bases);
        `away`: pushed at least `margin` away from these points (kinks of relu/abs/clamp)."""
        x = torch.randn(shape, generator=self.gen, dtype=F64) * scale
        if positive:
            x = x.abs() + 0.5
        for point in away:
            d = x - point
            close = d.abs() < margin
            x = torch.where(close, point + torch.where(d < 0, -margin, margin) + d, x)
        return self._leaf(name, "tensor", x, dtype)

    def given(self, name, values, dtype=F64):
        return self._leaf(name, "tensor", torch.tensor(values, dtype=F64), dtype)

    def value(self, name, x):
        """A scalar leaf (ag::Value in C++)."""
        return self._leaf(name, "value", torch.tensor(float(x), dtype=F64))

    def pick_labels(self, labels):
        self.labels = list(labels)
        return torch.tensor(self.labels, dtype=torch.int64)


CASES = []


def case(kind="tensor"):
    def register(fn):
        CASES.append((fn.__name__, kind, fn))
        return fn

    return register


def pick(x, labels):
    return x.gather(1, labels[:, None]).squeeze(1)


# ---------------------------------------------------------------- elementwise arithmetic
@case()
def add_same_shape(c):
    return c.randn("a", [2, 3]) + c.randn("b", [2, 3])


@case()
def add_scalar_0d(c):
    return c.randn("a", [2, 3]) + c.randn("s", [])


@case()
def add_scalar_0d_left(c):
    return c.randn("s", []) + c.randn("a", [3, 2])


@case()
def sub_row_vector(c):
    return c.randn("a", [3, 4]) - c.randn("row", [4])


@case()
def sub_row_vector_left(c):
    return c.randn("row", [4]) - c.randn("a", [3, 4])


@case()
def mul_column_vector(c):
    return c.randn("a", [3, 4]) * c.randn("col", [3, 1])


@case()
def div_column_vector(c):
    return c.randn("a", [3, 4]) / c.randn("col", [3, 1], positive=True)


@case()
def div_row_vector_left(c):
    return c.randn("row", [4]) / c.randn("a", [3, 4], positive=True)


@case()
def add_both_broadcast(c):
    return c.randn("a", [3, 1]) + c.randn("b", [1, 4])


@case()
def sub_both_broadcast(c):
    return c.randn("a", [3, 1]) - c.randn("b", [1, 4])


@case()
def mul_both_broadcast(c):
    return c.randn("a", [2, 1, 4]) * c.randn("b", [3, 1])


@case()
def div_both_broadcast(c):
    return c.randn("a", [3, 1]) / c.randn("b", [1, 4], positive=True)


@case()
def add_rank_difference(c):
    return c.randn("a", [2, 3, 4]) + c.randn("b", [4])


@case()
def mul_rank_difference(c):
    return c.randn("b", [3, 1]) * c.randn("a", [2, 3, 4])


@case()
def div_scalar_0d(c):
    return c.randn("s", []) / c.randn("b", [2, 3], positive=True)


@case()
def double_right(c):
    # Tensor (op) double for all four ops.
    return ((c.randn("a", [2, 3]) + 2.5) * 3.0 - 1.5) / 4.0


@case()
def double_left(c):
    # double (op) Tensor for all four ops.
    a = c.randn("a", [2, 3])
    b = c.randn("b", [2, 3], positive=True)
    return (0.5 + a) + (1.5 - a) * (3.0 * a) + 2.0 / b


@case()
def neg(c):
    return -c.randn("a", [2, 3])


# ---------------------------------------------------------------- pow and unary functions
@case()
def pow_double_integer(c):
    a = c.randn("a", [2, 3], away=[0.0])
    return torch.pow(a, 3.0) + torch.pow(a, 2.0)


@case()
def pow_double_fraction(c):
    p = c.randn("p", [2, 3], positive=True)
    return torch.pow(p, 0.5) + torch.pow(p, -1.5)


@case()
def pow_tensor(c):
    return torch.pow(c.randn("base", [2, 3], positive=True), c.randn("exponent", [2, 3]))


@case()
def pow_tensor_broadcast(c):
    return torch.pow(c.randn("base", [2, 3], positive=True), c.randn("exponent", [3]))


@case()
def unary_exp(c):
    return torch.exp(c.randn("a", [2, 3]))


@case()
def unary_log(c):
    return torch.log(c.randn("a", [2, 3], positive=True))


@case()
def unary_sqrt(c):
    return torch.sqrt(c.randn("a", [2, 3], positive=True))


@case()
def unary_tanh(c):
    return torch.tanh(c.randn("a", [2, 3], scale=2.0))


@case()
def unary_sigmoid(c):
    return torch.sigmoid(c.randn("a", [2, 3], scale=2.0))


@case()
def sigmoid_extreme(c):
    return torch.sigmoid(c.given("a", [-1000.0, -50.0, -1.0, 0.5, 50.0, 1000.0]))


@case()
def tanh_extreme(c):
    return torch.tanh(c.given("a", [-1000.0, -50.0, -1.0, 0.5, 50.0, 1000.0]))


@case()
def unary_relu(c):
    return torch.relu(c.randn("a", [3, 4], away=[0.0]))


@case()
def unary_abs(c):
    return torch.abs(c.randn("a", [3, 4], away=[0.0]))


@case()
def clamp(c):
    # Elements both inside and outside [-0.5, 0.8], none within 0.1 of a bound.
    return torch.clamp(c.randn("a", [3, 4], away=[-0.5, 0.8], margin=0.1), -0.5, 0.8)


# ---------------------------------------------------------------- reductions
@case()
def sum_all(c):
    return c.randn("a", [2, 3, 4]).sum()


@case()
def sum_dim(c):
    return c.randn("a", [2, 3, 4]).sum(1)


@case()
def sum_dim_keepdim(c):
    return c.randn("a", [2, 3, 4]).sum(0, keepdim=True)


@case()
def sum_negative_dim(c):
    return c.randn("a", [2, 3, 4]).sum(-1)


@case()
def mean_all(c):
    return c.randn("a", [2, 3, 4]).mean()


@case()
def mean_dim(c):
    return c.randn("a", [2, 3, 4]).mean(2)


@case()
def mean_dim_keepdim(c):
    return c.randn("a", [2, 3, 4]).mean(1, keepdim=True)


@case()
def max_all(c):
    return c.randn("a", [3, 4]).max()


@case()
def max_dim(c):
    return c.randn("a", [2, 3, 4]).max(1).values


@case()
def max_dim_keepdim(c):
    return c.randn("a", [2, 3, 4]).max(-1, keepdim=True).values


# ---------------------------------------------------------------- matmul
@case()
def matmul_2d(c):
    return torch.matmul(c.randn("a", [3, 4]), c.randn("b", [4, 5]))


@case()
def matmul_batched(c):
    return torch.matmul(c.randn("a", [2, 3, 4]), c.randn("b", [2, 4, 5]))


@case()
def matmul_batch_broadcast_right(c):
    return torch.matmul(c.randn("a", [2, 3, 4]), c.randn("b", [4, 5]))


@case()
def matmul_batch_broadcast_left(c):
    return torch.matmul(c.randn("a", [3, 4]), c.randn("b", [2, 4, 5]))


@case()
def matmul_batch_broadcast_both(c):
    return torch.matmul(c.randn("a", [2, 1, 3, 4]), c.randn("b", [3, 4, 2]))


@case()
def matmul_vector_matrix(c):
    return torch.matmul(c.randn("a", [4]), c.randn("b", [4, 5]))


@case()
def matmul_matrix_vector(c):
    return torch.matmul(c.randn("a", [3, 4]), c.randn("b", [4]))


@case()
def matmul_vector_vector(c):
    return torch.matmul(c.randn("a", [4]), c.randn("b", [4]))


@case()
def matmul_batched_vector(c):
    return torch.matmul(c.randn("a", [2, 3, 4]), c.randn("b", [4]))


@case()
def matmul_transposed(c):
    # A transposed (non-contiguous in torch) operand.
    return torch.matmul(c.randn("a", [4, 3]).t(), c.randn("b", [4, 2]))


# ---------------------------------------------------------------- shape ops
@case()
def reshape(c):
    return torch.tanh(c.randn("a", [2, 3, 4])).reshape(4, -1)


@case()
def reshape_flatten(c):
    return c.randn("a", [2, 3]).reshape(6) * c.randn("b", [6])


@case()
def transpose_2d(c):
    return c.randn("a", [2, 3]).t() * c.randn("b", [3, 1])


@case()
def transpose_3d(c):
    return c.randn("a", [2, 3, 4]).transpose(0, 2) + c.randn("b", [2])


@case()
def cat_dim0(c):
    return torch.cat([c.randn("a", [2, 3]), c.randn("b", [1, 3])], 0)


@case()
def cat_dim1(c):
    return torch.cat([c.randn("a", [2, 3]), c.randn("b", [2, 2]), c.randn("c", [2, 1])], 1)


@case()
def cat_negative_dim(c):
    return torch.cat([c.randn("a", [2, 3, 1]), c.randn("b", [2, 3, 2])], -1)


@case()
def clone(c):
    return c.randn("a", [2, 3]).clone() * 2.0


# ---------------------------------------------------------------- softmax family and pick
@case()
def softmax_dim1(c):
    return torch.softmax(c.randn("a", [3, 5]), 1)


@case()
def softmax_dim0(c):
    return torch.softmax(c.randn("a", [3, 5]), 0)


@case()
def softmax_3d_middle_dim(c):
    return torch.softmax(c.randn("a", [2, 3, 4]), 1)


@case()
def log_softmax_dim1(c):
    return torch.log_softmax(c.randn("a", [3, 5]), 1)


@case()
def log_softmax_negative_dim(c):
    return torch.log_softmax(c.randn("a", [2, 3, 4]), -1)


LARGE_LOGITS = [[1e4, 1e4 - 1.5, 0.0, -1e4], [-1e4, -1e4 + 2.0, 1e4 - 3.0, 5.0]]


@case()
def softmax_large_logits(c):
    return torch.softmax(c.given("a", LARGE_LOGITS), 1)


@case()
def log_softmax_large_logits(c):
    return torch.log_softmax(c.given("a", LARGE_LOGITS), 1)


@case()
def pick_rows(c):
    labels = c.pick_labels([2, 0, 1, 2])
    return pick(c.randn("a", [4, 3]), labels)


@case()
def cross_entropy_fused(c):
    labels = c.pick_labels([1, 0, 2, 2, 1])
    return torch.nn.functional.cross_entropy(c.randn("a", [5, 3], scale=3.0), labels)


# ---------------------------------------------------------------- fused linear (weight [in, out])
@case()
def linear_bias(c):
    return c.randn("x", [4, 3]) @ c.randn("w", [3, 2]) + c.randn("b", [2])


@case()
def linear_3d_input_no_bias(c):
    return c.randn("x", [2, 4, 3]) @ c.randn("w", [3, 5])


@case()
def linear_relu_bias(c):
    # ag::linear(x, w, b, Activation::relu): some outputs negative, so the mask matters.
    return torch.relu(c.randn("x", [5, 3]) @ c.randn("w", [3, 4]) + c.randn("b", [4]))


@case()
def linear_relu_3d_input_no_bias(c):
    return torch.relu(c.randn("x", [2, 3, 4]) @ c.randn("w", [4, 3]))


# ---------------------------------------------------------------- dtype conversion
@case()
def to_float32(c):
    # Rounding to float32 and float32 arithmetic after it; the gradient is rounded on the way back.
    return (c.randn("a", [2, 3]) * 1.1).to(F32) * 3.0 + 0.25


@case()
def to_float64(c):
    return c.randn("a", [2, 3], dtype=F32).to(F64) * c.randn("b", [2, 3])


# ---------------------------------------------------------------- Values in tensor expressions
@case()
def tensor_value_mix(c):
    a = c.randn("a", [2, 3])
    v = c.value("v", 1.25)
    u = c.value("u", -0.75)
    return (a + v) * (u - a) + (a - v) / u + (v * a) - (a / v) + (u + a) * u + v / (a * a + 1.0) + a * u


@case("value")
def value_from_tensor(c):
    x = c.randn("x", [2, 3])
    s = (x * x).sum()
    m = x.mean()
    return torch.tanh(s * 0.1) * m + torch.pow(s, 0.5)


# ---------------------------------------------------------------- composites
@case()
def mlp_cross_entropy(c):
    x = c.randn("x", [4, 3])
    w1 = c.randn("w1", [3, 5], scale=0.7)
    b1 = c.randn("b1", [5], scale=0.1)
    w2 = c.randn("w2", [5, 3], scale=0.7)
    b2 = c.randn("b2", [3], scale=0.1)
    labels = c.pick_labels([0, 2, 1, 2])
    hidden = torch.tanh(torch.matmul(x, w1) + b1)
    logits = torch.matmul(hidden, w2) + b2
    return -pick(torch.log_softmax(logits, 1), labels).mean()


@case()
def relu_mlp_mse(c):
    x = c.randn("x", [5, 2])
    w1 = c.randn("w1", [2, 4])
    b1 = c.randn("b1", [4], scale=0.1)
    w2 = c.randn("w2", [4, 1])
    target = c.randn("target", [5, 1])
    hidden = torch.relu(torch.matmul(x, w1) + b1)
    assert (torch.matmul(x, w1) + b1).abs().min() > 1e-3  # no element at relu's kink
    return torch.pow(torch.matmul(hidden, w2) - target, 2.0).mean()


@case()
def attention(c):
    q = c.randn("q", [2, 3, 4])
    k = c.randn("k", [2, 5, 4])
    v = c.randn("v", [2, 5, 2])
    scores = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(4.0)
    return torch.matmul(torch.softmax(scores, -1), v)


@case()
def layer_norm(c):
    x = c.randn("x", [3, 5])
    gain = c.randn("gain", [5])
    mu = x.mean(1, keepdim=True)
    var = torch.pow(x - mu, 2.0).mean(1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * gain


@case()
def logsumexp_by_hand(c):
    x = c.randn("x", [3, 4], scale=3.0)
    m = x.max(1, keepdim=True).values
    return torch.log(torch.exp(x - m).sum(1)) + m.reshape(3)


@case()
def abs_clamp_sigmoid_chain(c):
    # Kinks of abs at 0 and of the clamp at |x| = 0.2 and 0.95.
    x = c.randn("x", [2, 4], away=[-0.95, -0.2, 0.0, 0.2, 0.95], margin=0.05)
    inner = torch.abs(x) * 2.0 - 1.0
    assert ((inner + 0.6).abs().min() > 1e-3) and ((inner - 0.9).abs().min() > 1e-3)
    y = torch.clamp(inner, -0.6, 0.9)
    return torch.sigmoid(y) * torch.exp(-x)


# ---------------------------------------------------------------- scalar Values
@case("value")
def micrograd_issue(c):
    x = c.value("x", -4.0)
    z = 2 * x + 2 + x
    q = torch.relu(z) + z * x
    h = torch.relu(z * z)
    return h + q + q * x


@case("value")
def micrograd_sanity(c):
    # micrograd's test_more_ops, with its compound assignments.
    a = c.value("a", -4.0)
    b = c.value("b", 2.0)
    cc = a + b
    d = a * b + b**3
    cc = cc + cc + 1
    cc = cc + 1 + cc + (-a)
    d = d + d * 2 + torch.relu(b + a)
    d = d + 3 * d + torch.relu(b - a)
    e = cc - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


@case("value")
def value_pow(c):
    a = c.value("a", 1.7)
    b = c.value("b", -0.6)
    return torch.pow(a, b) + torch.pow(a, 2.5) + torch.pow(b, 3.0) + torch.pow(a + b, -2.0)


@case("value")
def value_division_chain(c):
    a = c.value("a", 1.3)
    b = c.value("b", -2.1)
    cc = c.value("c", 0.7)
    r = a / b
    r = r / cc
    r = r / (1.0 + a)
    r = 3.0 / r
    r = r - a / b / cc
    return r * 0.5 - 1.0


@case("value")
def value_unary(c):
    a = c.value("a", 0.8)
    b = c.value("b", -1.3)
    return (torch.exp(a) + torch.log(a) + torch.sqrt(a) + torch.tanh(b) + torch.sigmoid(b)
            + torch.relu(a) + torch.relu(b) + torch.abs(b) - (-a) * b)


@case("value")
def value_extreme(c):
    p = c.value("p", 1000.0)
    n = c.value("n", -1000.0)
    pf = c.value("pf", 50.0)
    nf = c.value("nf", -50.0)
    return (torch.sigmoid(p) + torch.sigmoid(n) * 2.0 + torch.tanh(p) * 3.0 + torch.tanh(n) * 4.0
            + torch.sigmoid(pf) * 5.0 + torch.sigmoid(nf) * 6.0 + torch.tanh(nf) * 7.0)


# ---------------------------------------------------------------- the op registry's ops
# tests/data/op_table.txt (written by the ag_op_table tool) lists every registered op; each
# gets cases "op_NAME_K" (tensors: every broadcasting case for binary ops) and, where it has a
# Value form, "op_v_NAME_K". The expression for each op name is the one line per op below.
F = torch.nn.functional
TORCH_OPS = {
    "exp": lambda x, p: torch.exp(x[0]),
    "log": lambda x, p: torch.log(x[0]),
    "sqrt": lambda x, p: torch.sqrt(x[0]),
    "tanh": lambda x, p: torch.tanh(x[0]),
    "sigmoid": lambda x, p: torch.sigmoid(x[0]),
    "relu": lambda x, p: torch.relu(x[0]),
    "abs": lambda x, p: torch.abs(x[0]),
    "sin": lambda x, p: torch.sin(x[0]),
    "cos": lambda x, p: torch.cos(x[0]),
    "log1p": lambda x, p: torch.log1p(x[0]),
    "expm1": lambda x, p: torch.expm1(x[0]),
    "softplus": lambda x, p: F.softplus(x[0]),
    "leaky_relu": lambda x, p: F.leaky_relu(x[0], p),
    "gelu": lambda x, p: F.gelu(x[0], approximate="tanh"),
    "add": lambda x, p: x[0] + x[1],
    "sub": lambda x, p: x[0] - x[1],
    "mul": lambda x, p: x[0] * x[1],
    "div": lambda x, p: x[0] / x[1],
    "minimum": lambda x, p: torch.minimum(x[0], x[1]),
    "maximum": lambda x, p: torch.maximum(x[0], x[1]),
    "pow": lambda x, p: torch.pow(x[0], x[1]),
    "clamp": lambda x, p: torch.clamp(x[0], -0.7, 0.8),
    "where": lambda x, p: torch.where(x[0] > x[1], x[0] * x[1], x[1]),
    "sum": lambda x, p: x[0].sum(),
    "sum_dim": lambda x, p: x[0].sum(1, keepdim=True),
    "mean": lambda x, p: x[0].mean(),
    "mean_dim": lambda x, p: x[0].mean(-1),
    "max_dim": lambda x, p: x[0].max(1).values,
    "matmul": lambda x, p: torch.matmul(x[0], x[1]),
    "reshape": lambda x, p: x[0].reshape(4, -1),
    "transpose": lambda x, p: x[0].transpose(0, 2),
    "softmax": lambda x, p: torch.softmax(x[0], 1),
    "log_softmax": lambda x, p: torch.log_softmax(x[0], 0),
    "cat": lambda x, p: torch.cat([x[0], x[1]], 0),
    "min": lambda x, p: x[0].min(),
    "min_dim": lambda x, p: x[0].min(1).values,
    "squeeze": lambda x, p: x[0].squeeze(),
    "unsqueeze": lambda x, p: x[0].unsqueeze(1),
    "flatten": lambda x, p: x[0].flatten(1),
    "expand": lambda x, p: x[0].expand(2, 3, 4),
    "stack": lambda x, p: torch.stack([x[0], x[1]], 1),
    "narrow": lambda x, p: x[0].narrow(1, 1, 3),
    "select": lambda x, p: x[0].select(0, -2),
    "slice": lambda x, p: x[0][-4:100:3, 0:6:2],
    "index_select": lambda x, p: x[0].index_select(0, torch.tensor([2, 0, 2])),
    "gather": lambda x, p: x[0].gather(1, torch.tensor([[0, 3, 3], [1, 0, 2], [2, 2, 1]])),
}
# The broadcasting cases of every binary op (as tests/test_op_table.cpp checks them).
BROADCAST_CASES = [
    ([2, 3], [2, 3]), ([2, 3], []), ([], [2, 3]), ([2, 3], [3]), ([2, 3], [2, 1]),
    ([3, 1], [1, 4]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [2, 2]),
]
UNARY_SHAPES = [[2, 3], []]
MARGIN = 0.15


def read_op_table(path):
    ops = []
    with open(path) as f:
        for line in f:
            if not line.startswith("op "):
                continue
            w = line.split()
            shapes = []
            if w[12] != "-":
                for group in w[12].split("|"):
                    shapes.append([[int(d) for d in s.split(",")] if s else []
                                   for s in group.split(";")])
            ops.append(dict(name=w[1], kind=w[2], arity=int(w[3]), values=w[4] == "1",
                            num_params=int(w[5]), param=float(w[6]), lo=float(w[7]),
                            hi=float(w[8]), kinks=[float(k) for k in w[9:11] if k != "nan"],
                            ties=w[11] == "1", shapes=shapes))
    return ops


def draw(c, shape, op):
    x = op["lo"] + (op["hi"] - op["lo"]) * torch.rand(shape, generator=c.gen, dtype=F64)
    for k in op["kinks"]:
        d = x - k
        x = torch.where(d.abs() < MARGIN, k + torch.where(d < 0, -MARGIN, MARGIN) + d, x)
    return x.to(F32).to(F64)


def draw_operands(c, shapes, op):
    for _ in range(100):
        xs = [draw(c, s, op) for s in shapes]
        if not op["ties"]:
            return xs
        if len(xs) >= 2 and (xs[0] - xs[1]).abs().min() >= MARGIN:
            return xs
        flat = xs[0].reshape(-1)
        gaps = (flat[:, None] - flat[None, :]).abs() + torch.eye(flat.numel(), dtype=F64)
        if len(xs) == 1 and gaps.min() >= MARGIN:
            return xs
    raise AssertionError(("no tie-free operands", c.name))


def register_op_cases(path):
    for op in read_op_table(path):
        fn = TORCH_OPS[op["name"]]  # every registered op needs its torch expression here
        if op["kind"] == "unary":
            shape_cases = [[s] for s in UNARY_SHAPES]
        elif op["kind"] == "binary":
            shape_cases = [list(pair) for pair in BROADCAST_CASES]
        else:
            shape_cases = op["shapes"]

        for k, shapes in enumerate(shape_cases):
            def tensor_case(c, op=op, shapes=shapes, fn=fn):
                xs = draw_operands(c, shapes, op)
                leaves = [c._leaf(f"x{i}", "tensor", x) for i, x in enumerate(xs)]
                return fn(leaves, op["param"])

            CASES.append((f"op_{op['name']}_{k}", "tensor", tensor_case))
        if op["values"]:
            def value_case(c, op=op, fn=fn):
                xs = draw_operands(c, [[]] * op["arity"], op)
                leaves = [c.value(f"x{i}", float(x)) for i, x in enumerate(xs)]
                return fn(leaves, op["param"])

            CASES.append((f"op_v_{op['name']}_0", "value", value_case))


# ---------------------------------------------------------------- output
def fmt_number(x):
    x = float(x)
    assert math.isfinite(x)
    return repr(x)


def fmt_tensor(t):
    t = t.detach()
    head = [DTYPE_NAMES[t.dtype], str(t.dim())] + [str(s) for s in t.shape]
    return " ".join(head + [fmt_number(v) for v in t.to(F64).reshape(-1).tolist()])


def render():
    torch.use_deterministic_algorithms(True)
    lines = [
        "# PyTorch reference values for tests/test_torch_refs.cpp.",
        f"# Generated by tools/make_torch_refs.py with torch {torch.__version__}; do not edit.",
        "# Format: see the script's docstring.",
    ]
    names = set()
    for name, kind, fn in CASES:
        assert name not in names, name
        names.add(name)
        c = Case(name, kind)
        out = fn(c)
        handed = [leaf for (_, _, leaf) in c.inputs]
        lines.append(f"case {name} {kind}")
        for input_name, input_kind, leaf in c.inputs:
            lines.append(f"input {input_name} {input_kind} {fmt_tensor(leaf)}")
        if c.labels is not None:
            lines.append("labels " + " ".join(str(n) for n in [len(c.labels)] + c.labels))
        lines.append(f"output {fmt_tensor(out)}")
        if kind == "tensor":
            weight = torch.randn(out.shape, generator=c.gen, dtype=F64).to(F32).to(out.dtype)
            grads = torch.autograd.grad(out, handed, grad_outputs=weight, allow_unused=True)
            lines.append(f"weight {fmt_tensor(weight)}")
        else:
            assert out.dim() == 0, name
            grads = torch.autograd.grad(out, handed, allow_unused=True)
        for (input_name, _, _), leaf, g in zip(c.inputs, handed, grads):
            assert g is not None, (name, input_name)
            assert g.dtype == leaf.dtype and g.shape == leaf.shape, (name, input_name)
            lines.append(f"grad {input_name} {fmt_tensor(g)}")
        lines.append("end")
    return "\n".join(lines) + "\n"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=os.path.join(root, "tests", "data", "torch_refs.txt"))
    parser.add_argument("--check", action="store_true", help="compare with the stored file only")
    parser.add_argument("--op-table", default=os.path.join(root, "tests", "data", "op_table.txt"))
    args = parser.parse_args()
    register_op_cases(args.op_table)
    text = render()
    if args.check:
        with open(args.output) as f:
            stored = f.read()
        if stored != text:
            print(f"{args.output} is stale: rerun {sys.argv[0]}", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date ({len(CASES)} cases)")
        return 0
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {len(CASES)} cases to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
