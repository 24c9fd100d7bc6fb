"""agrad.Error carries the engine's message and op; no_grad and detect_anomaly."""
import math

import numpy as np
import pytest

import agrad


def test_error_is_a_runtime_error_with_message_and_op():
    a = agrad.ones([2, 3])
    b = agrad.ones([4])
    with pytest.raises(agrad.Error) as info:
        a + b
    e = info.value
    assert isinstance(e, RuntimeError)
    assert e.op == "add"
    assert str(e) == "ag::add: shapes [2, 3] and [4] do not broadcast (dim -1: 3 vs 4)"
    assert a.tolist() == [[1.0] * 3] * 2  # inputs untouched


@pytest.mark.parametrize(
    "call, op, fragment",
    [
        (lambda: agrad.ones([2, 3]) @ agrad.ones([2, 3]), "matmul", "[2, 3]"),
        (lambda: agrad.ones([2, 3]).sum(5), "sum", "out of range"),
        (lambda: agrad.ones([2, 3]).backward(), "backward", "[2, 3]"),
        (lambda: agrad.ones([2, 3]).reshape(4, 2), "reshape", "[4, 2]"),
        (lambda: agrad.tensor([-1.0]).log(), "log", "-1"),
        (lambda: agrad.ones([2, 3], dtype=agrad.float64) + agrad.ones([2, 3]), "add", "float32"),
        (lambda: agrad.cross_entropy(agrad.ones([2, 3]), [0, 7]), "cross_entropy", "7"),
        (lambda: agrad.cross_entropy(agrad.ones([2, 3]), np.array([0.5, 1.0])), "cross_entropy", "integers"),
        (lambda: agrad.nn.Dense(2, 3, init="bogus"), "nn::Dense", "bogus"),
        (lambda: agrad.draw(agrad.Value(1.0), view="bogus"), "draw", "bogus"),
        (lambda: agrad.linear(agrad.ones([2, 3]), agrad.ones([3, 4]), activation="tanh"), "linear", "tanh"),
    ],
)
def test_bad_input_raises_with_the_op_and_the_values(call, op, fragment):
    with pytest.raises(agrad.Error) as info:
        call()
    assert info.value.op == op
    assert fragment in str(info.value)


def test_second_backward_through_released_tensor_graph_is_refused():
    w = agrad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward()
    with pytest.raises(agrad.Error, match="retain_graph") as info:
        y.backward()
    assert info.value.op == "backward"


def test_no_grad_records_nothing_and_restores():
    w = agrad.tensor([1.0, 2.0], requires_grad=True)
    v = agrad.Value(2.0)
    assert agrad.is_grad_enabled()
    with agrad.no_grad():
        assert not agrad.is_grad_enabled()
        y = w * 3.0
        z = v * v
        assert not y.requires_grad
        assert y.is_leaf and z.is_leaf
    assert agrad.is_grad_enabled()
    assert (w * 3.0).requires_grad


def test_no_grad_restores_after_an_exception():
    with pytest.raises(agrad.Error):
        with agrad.no_grad():
            agrad.ones([2]) + agrad.ones([3])
    assert agrad.is_grad_enabled()


def test_no_grad_nests():
    with agrad.no_grad():
        with agrad.no_grad():
            pass
        assert not agrad.is_grad_enabled()
    assert agrad.is_grad_enabled()


def test_detect_anomaly_names_the_op():
    x = agrad.tensor([1.0, 0.0], requires_grad=True)
    with agrad.detect_anomaly():
        with pytest.raises(agrad.Error, match="anomaly") as info:
            agrad.log(x)
    assert info.value.op == "log"
    assert math.isinf(agrad.log(x).tolist()[1])  # outside, -inf is an ordinary value
