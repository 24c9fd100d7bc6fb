"""Tensor ops from Python against the stored PyTorch references (tests/data/torch_refs.txt,
made by tools/make_torch_refs.py), the same file the C++ test test_torch_refs.cpp replays."""
import numpy as np
import pytest

import agrad


def parse_refs(path):
    cases = {}
    current = None

    def array(tokens):
        dtype, ndim = tokens[0], int(tokens[1])
        shape = [int(t) for t in tokens[2 : 2 + ndim]]
        values = [float(t) for t in tokens[2 + ndim :]]
        return np.array(values, dtype=np.float64).reshape(shape)

    for line in path.read_text().splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if tokens[0] == "case":
            current = {"kind": tokens[2], "inputs": {}, "grads": {}, "labels": None}
            cases[tokens[1]] = current
        elif tokens[0] == "input":
            current["inputs"][tokens[1]] = (tokens[2], array(tokens[3:]))
        elif tokens[0] == "labels":
            current["labels"] = [int(t) for t in tokens[2:]]
        elif tokens[0] == "output":
            current["output"] = array(tokens[1:])
        elif tokens[0] == "weight":
            current["weight"] = array(tokens[1:])
        elif tokens[0] == "grad":
            current["grads"][tokens[1]] = array(tokens[2:])
    return cases


def pick(x, labels):
    return agrad.pick(x, labels)


# The expressions of tools/make_torch_refs.py, written with agrad.
EXPRESSIONS = {
    "add_same_shape": lambda i, l: i["a"] + i["b"],
    "add_scalar_0d": lambda i, l: i["a"] + i["s"],
    "add_scalar_0d_left": lambda i, l: i["s"] + i["a"],
    "sub_row_vector": lambda i, l: i["a"] - i["row"],
    "sub_row_vector_left": lambda i, l: i["row"] - i["a"],
    "mul_column_vector": lambda i, l: i["a"] * i["col"],
    "div_column_vector": lambda i, l: i["a"] / i["col"],
    "div_row_vector_left": lambda i, l: i["row"] / i["a"],
    "add_both_broadcast": lambda i, l: i["a"] + i["b"],
    "sub_both_broadcast": lambda i, l: i["a"] - i["b"],
    "mul_both_broadcast": lambda i, l: i["a"] * i["b"],
    "div_both_broadcast": lambda i, l: i["a"] / i["b"],
    "add_rank_difference": lambda i, l: i["a"] + i["b"],
    "mul_rank_difference": lambda i, l: i["b"] * i["a"],
    "div_scalar_0d": lambda i, l: i["s"] / i["b"],
    "double_right": lambda i, l: ((i["a"] + 2.5) * 3.0 - 1.5) / 4.0,
    "neg": lambda i, l: -i["a"],
    "pow_tensor": lambda i, l: i["base"] ** i["exponent"],
    "pow_tensor_broadcast": lambda i, l: agrad.pow(i["base"], i["exponent"]),
    "unary_exp": lambda i, l: agrad.exp(i["a"]),
    "unary_log": lambda i, l: i["a"].log(),
    "unary_sqrt": lambda i, l: i["a"].sqrt(),
    "unary_tanh": lambda i, l: agrad.tanh(i["a"]),
    "unary_sigmoid": lambda i, l: i["a"].sigmoid(),
    "sigmoid_extreme": lambda i, l: i["a"].sigmoid(),
    "tanh_extreme": lambda i, l: i["a"].tanh(),
    "unary_relu": lambda i, l: agrad.relu(i["a"]),
    "unary_abs": lambda i, l: i["a"].abs(),
    "clamp": lambda i, l: agrad.clamp(i["a"], -0.5, 0.8),
    "sum_all": lambda i, l: i["a"].sum(),
    "sum_dim": lambda i, l: i["a"].sum(1),
    "sum_dim_keepdim": lambda i, l: i["a"].sum(0, keepdim=True),
    "sum_negative_dim": lambda i, l: i["a"].sum(-1),
    "mean_all": lambda i, l: i["a"].mean(),
    "mean_dim": lambda i, l: i["a"].mean(2),
    "mean_dim_keepdim": lambda i, l: i["a"].mean(1, keepdim=True),
    "max_all": lambda i, l: i["a"].max(),
    "max_dim": lambda i, l: i["a"].max(1),
    "max_dim_keepdim": lambda i, l: i["a"].max(-1, keepdim=True),
    "matmul_2d": lambda i, l: i["a"] @ i["b"],
    "matmul_batched": lambda i, l: i["a"] @ i["b"],
    "matmul_batch_broadcast_right": lambda i, l: agrad.matmul(i["a"], i["b"]),
    "matmul_batch_broadcast_left": lambda i, l: i["a"] @ i["b"],
    "matmul_batch_broadcast_both": lambda i, l: i["a"] @ i["b"],
    "matmul_vector_matrix": lambda i, l: i["a"] @ i["b"],
    "matmul_matrix_vector": lambda i, l: i["a"] @ i["b"],
    "matmul_vector_vector": lambda i, l: i["a"] @ i["b"],
    "matmul_batched_vector": lambda i, l: i["a"] @ i["b"],
    "matmul_transposed": lambda i, l: i["a"].T @ i["b"],
    "reshape": lambda i, l: i["a"].tanh().reshape(4, -1),
    "reshape_flatten": lambda i, l: i["a"].reshape(6) * i["b"],
    "transpose_2d": lambda i, l: i["a"].t() * i["b"],
    "transpose_3d": lambda i, l: i["a"].transpose(0, 2) + i["b"],
    "cat_dim0": lambda i, l: agrad.cat([i["a"], i["b"]], 0),
    "cat_dim1": lambda i, l: agrad.cat([i["a"], i["b"], i["c"]], 1),
    "cat_negative_dim": lambda i, l: agrad.cat([i["a"], i["b"]], -1),
    "clone": lambda i, l: i["a"].clone() * 2.0,
    "softmax_dim1": lambda i, l: agrad.softmax(i["a"], 1),
    "softmax_dim0": lambda i, l: i["a"].softmax(0),
    "softmax_3d_middle_dim": lambda i, l: i["a"].softmax(1),
    "log_softmax_dim1": lambda i, l: agrad.log_softmax(i["a"], 1),
    "log_softmax_negative_dim": lambda i, l: i["a"].log_softmax(-1),
    "softmax_large_logits": lambda i, l: i["a"].softmax(1),
    "log_softmax_large_logits": lambda i, l: i["a"].log_softmax(1),
    "pick_rows": lambda i, l: pick(i["a"], l),
    "cross_entropy_fused": lambda i, l: agrad.cross_entropy(i["a"], np.array(l)),
    "linear_bias": lambda i, l: agrad.linear(i["x"], i["w"], i["b"]),
    "linear_3d_input_no_bias": lambda i, l: agrad.linear(i["x"], i["w"]),
    "linear_relu_bias": lambda i, l: agrad.linear(i["x"], i["w"], i["b"], activation="relu"),
    "linear_relu_3d_input_no_bias": lambda i, l: agrad.linear(i["x"], i["w"], activation="relu"),
    "mlp_cross_entropy": lambda i, l: -pick(
        agrad.log_softmax(agrad.tanh(i["x"] @ i["w1"] + i["b1"]) @ i["w2"] + i["b2"], 1), l
    ).mean(),
}

REFS = parse_refs(__import__("conftest").SOURCE_DIR / "tests" / "data" / "torch_refs.txt")


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
@pytest.mark.parametrize("dtype, rtol, atol", [(agrad.float64, 1e-12, 1e-12), (agrad.float32, 2e-5, 2e-5)])
def test_matches_pytorch(name, dtype, rtol, atol):
    case = REFS[name]
    inputs = {k: agrad.tensor(v, dtype=dtype, requires_grad=True) for k, (kind, v) in case["inputs"].items()}
    out = EXPRESSIONS[name](inputs, case["labels"])
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), case["output"], rtol=rtol, atol=atol)
    out.backward(agrad.tensor(case["weight"], dtype=dtype))
    for k, expected in case["grads"].items():
        np.testing.assert_allclose(inputs[k].grad.numpy(), expected, rtol=rtol, atol=atol, err_msg=k)


def test_every_expression_has_a_reference():
    assert set(EXPRESSIONS) <= set(REFS)
