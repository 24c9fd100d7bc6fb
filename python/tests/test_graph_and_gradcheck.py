"""Pictures (DOT, SVG through the in-process renderer, Jupyter's _repr_svg_) and gradcheck."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import agrad

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return [t.text for t in root.iter(SVG + "text") if t.text]


def test_value_graph_svg_shows_data_grads_and_labels():
    a = agrad.Value(2.0, "a")
    b = agrad.Value(-3.0, "b")
    y = (a * b + 1).relu()
    y.label = "y"
    (a * b).backward()
    svg = agrad.draw(y)
    texts = svg_texts(svg)
    for label in ("a", "b", "y", "relu", "*", "+"):
        assert any(label == t.strip() for t in texts), (label, texts)
    assert any("data -6" in t for t in texts)
    assert any("grad -3" in t for t in texts)  # d(a*b)/da = b
    assert y._repr_svg_() == svg


def test_tensor_graph_shapes_view():
    w = agrad.tensor(np.ones((3, 2)), requires_grad=True).set_label("w")
    x = agrad.ones([4, 3], dtype=agrad.float64)
    loss = (x @ w).tanh().sum()
    texts = " ".join(svg_texts(agrad.draw(loss, view="tensor")))
    assert "matmul" in texts and "tanh" in texts and "w" in texts
    assert "[3, 2]" in texts
    dot = agrad.to_dot(loss)
    assert dot.startswith("digraph") and "matmul" in dot
    assert agrad.to_dot([loss, w], precision=2) == agrad.to_dot([loss, w], precision=2)  # deterministic
    ET.fromstring(loss._repr_svg_())


def test_draw_refuses_too_large_and_bad_roots():
    x = agrad.Value(1.0)
    for _ in range(50):
        x = x + 1
    with pytest.raises(agrad.Error) as info:
        agrad.draw(x, max_nodes=10)
    assert "10" in str(info.value)
    with pytest.raises(agrad.Error):
        agrad.draw([1.0])


def test_render_dot_to_file(tmp_path):
    path = tmp_path / "g.svg"
    agrad.render_dot("digraph { a -> b }", str(path))
    ET.parse(path)


def test_gradcheck_tensor_and_value_functions():
    gen = agrad.Generator(3)
    a = agrad.randn([3, 4], gen, dtype=agrad.float64)
    b = agrad.randn([4, 2], gen, dtype=agrad.float64)
    r = agrad.gradcheck(lambda xs: (xs[0] @ xs[1]).tanh().softmax(1), [a, b])
    assert r.ok and bool(r) and r.max_abs_error < 1e-6, r.summary()
    assert len(r.analytic) == 2 and len(r.analytic[0]) == 12

    r = agrad.gradcheck(lambda v: (v[0] * v[1]).tanh() + v[0] ** 3, [0.5, -1.25])
    assert r.ok, r.summary()
    # analytic values are the hand derivatives
    s = 1 - np.tanh(0.5 * -1.25) ** 2
    assert r.analytic[0][0] == pytest.approx(-1.25 * s + 3 * 0.25, rel=1e-9)
    assert r.analytic[1][0] == pytest.approx(0.5 * s, rel=1e-9)


def test_gradcheck_catches_a_wrong_gradient():
    # detach() hides half of x*x from backward: analytic x, numeric 2x
    x = agrad.tensor([1.5, -2.0], dtype=agrad.float64)
    r = agrad.gradcheck(lambda xs: xs[0] * xs[0].detach(), [x])
    assert not r.ok
    assert "mismatch" in r.summary()
    assert x.tolist() == [1.5, -2.0]  # inputs untouched


def test_gradcheck_refuses_float32():
    with pytest.raises(agrad.Error, match="float64") as info:
        agrad.gradcheck(lambda xs: xs[0] * 2, [agrad.ones([2])])
    assert info.value.op == "gradcheck"


def test_gradcheck_propagates_python_exceptions():
    with pytest.raises(ZeroDivisionError):
        agrad.gradcheck(lambda xs: 1 / 0, [agrad.ones([2], dtype=agrad.float64)])
