"""agrad.Value against the same numbers as the C++ tests (tests/test_value.cpp)."""
import math

import pytest

import agrad
from agrad import Value


def test_micrograd_sanity_expression():
    # micrograd's test_sanity_check: y = -20, dy/dx = 46 (as in the C++ test)
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_micrograd_readme_expression():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


@pytest.mark.parametrize(
    "f, df, x",
    [
        (lambda v: v.exp(), math.exp, 0.7),
        (lambda v: v.log(), lambda x: 1 / x, 0.7),
        (lambda v: v.sqrt(), lambda x: 0.5 / math.sqrt(x), 0.7),
        (lambda v: v.tanh(), lambda x: 1 - math.tanh(x) ** 2, 0.7),
        (lambda v: v.sigmoid(), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2, 0.7),
        (lambda v: v.relu(), lambda x: 1.0 if x > 0 else 0.0, -0.7),
        (lambda v: v.abs(), lambda x: -1.0, -0.7),
        (lambda v: v**3, lambda x: 3 * x * x, 0.7),
        (lambda v: 2**v, lambda x: math.log(2) * 2**x, 0.7),
        (lambda v: v**v, lambda x: x**x * (math.log(x) + 1), 0.7),
        (lambda v: 1 - v, lambda x: -1.0, 0.7),
        (lambda v: 3 / v, lambda x: -3 / x**2, 0.7),
        (lambda v: -v * 5, lambda x: -5.0, 0.7),
        (lambda v: agrad.tanh(v) + agrad.exp(v), lambda x: 1 - math.tanh(x) ** 2 + math.exp(x), 0.3),
    ],
)
def test_op_derivatives_by_hand(f, df, x):
    v = Value(x)
    y = f(v)
    y.backward()
    assert v.grad == pytest.approx(df(x), rel=1e-12)


def test_numbers_on_either_side():
    x = Value(3.0)
    assert (x + 1).data == 4.0 and (1 + x).data == 4.0
    assert (x - 1).data == 2.0 and (1 - x).data == -2.0
    assert (x * 2).data == 6.0 and (2 * x).data == 6.0
    assert (x / 2).data == 1.5 and (6 / x).data == 2.0
    assert float(x) == 3.0


def test_compound_assignment_rebinds():
    x = Value(3.0)
    y = x
    x += 1
    assert x.data == 4.0 and y.data == 3.0
    x *= x
    x.backward()
    assert x.data == 16.0
    assert y.grad == 8.0  # d((y + 1)^2)/dy


def test_set_data_steps_a_leaf_and_refuses_results():
    w = Value(2.0)
    loss = (w - 5.0) * (w - 5.0)
    loss.backward()
    w.data = w.data - 0.1 * w.grad  # 2 - 0.1 * (-6)
    assert w.data == pytest.approx(2.6, abs=1e-15)
    with pytest.raises(agrad.Error) as info:
        loss.data = 0.0
    assert info.value.op == "set_data"


def test_labels_and_repr():
    w = Value(1.0, "w1")
    assert w.label == "w1"
    y = w * 2
    assert y.label == ""
    y.label = "y"
    assert y.label == "y"
    assert repr(Value(2.0)) == "Value(data=2, grad=0)"
    assert w.is_leaf and not y.is_leaf


def test_backward_twice_accumulates_leaves_only():
    x = Value(2.0)
    y = x * x
    y.backward()
    y.backward()
    assert x.grad == 8.0  # leaves accumulate until zero_grad
    x.zero_grad()
    assert x.grad == 0.0


def test_domain_errors_name_the_op_and_value():
    neg = Value(-3.0)
    with pytest.raises(agrad.Error, match="-3") as info:
        neg.log()
    assert info.value.op == "log"
    assert str(info.value).startswith("ag::log:")
    with pytest.raises(agrad.Error):
        agrad.sqrt(neg)
    assert neg.data == -3.0


def test_extremes_are_finite():
    for x in (1000.0, -1000.0):
        a, b = Value(x), Value(x)
        t, s = a.tanh(), b.sigmoid()
        t.backward()
        s.backward()
        assert math.isfinite(t.data) and math.isfinite(s.data)
        assert a.grad == 0.0 and b.grad == 0.0


def test_value_from_tensor_flows_back():
    t = agrad.tensor([3.0], requires_grad=True)
    v = Value(t)
    (v * v).backward()
    assert t.grad.tolist() == [6.0]
