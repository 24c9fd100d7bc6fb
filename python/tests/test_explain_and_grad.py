"""Explanations (ag::explain, ag::backward_trace) and gradients as values (ag::grad, hessian)
from Python. The module binds them where the engine has them; until then the functions are
absent and create_graph / edge_derivatives are refused with a clear error."""
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import agrad

has_explain = hasattr(agrad, "explain")
has_grad = hasattr(agrad, "grad")


@pytest.mark.skipif(not has_explain, reason="this engine has no ag::explain")
def test_explain_lists_both_paths_of_the_seed_style_example():
    w = agrad.Value(0.5, "w")
    x = agrad.Value(2.0, "x")
    f = (w * x - 0.3).relu() * w
    f.label = "f"
    e = agrad.explain(f, w)
    # f = relu(w x - 0.3) w: df/dw = relu'(0.7) x w + relu(0.7) = 2 * 0.5 + 0.7
    assert e.reachable and e.path_count == 2 and len(e.paths) == 2
    assert math.isclose(e.total, 1.7, rel_tol=1e-15)
    assert math.isclose(sum(p.product for p in e.paths), 1.7, rel_tol=1e-12)
    assert e.paths[0].nodes[0] == "w" and e.paths[0].nodes[-1] == "f"
    assert "w" in str(e) and "f" in e.text()
    f.backward()
    assert w.grad == e.total  # explain did not touch the gradients, and agrees bit for bit
    trace = agrad.backward_trace(f)
    assert trace.steps[0].name == "f" and trace.steps[0].adjoint == 1.0
    assert any(s.name == "w" and s.adjoint == e.total for s in trace.steps)


@pytest.mark.skipif(not has_explain, reason="this engine has no ag::explain")
def test_explain_names_the_zero_factor():
    w = agrad.Value(-1.0, "w")
    y = (w * 2.0).relu()
    e = agrad.explain(y, w)
    assert e.total == 0.0
    assert e.paths[0].zero_factor != ""
    with pytest.raises(agrad.Error):
        agrad.explain(agrad.ones([3]).sum(), 1.0)


@pytest.mark.skipif(not has_explain, reason="this engine has no ag::explain")
def test_edge_derivative_labels_and_highlight():
    w = agrad.Value(0.5, "w")
    y = w * 3.0 + w
    plain = agrad.draw(y)
    labelled = agrad.draw(y, edge_derivatives=True, highlight=w)
    ET.fromstring(labelled)
    assert labelled != plain


@pytest.mark.skipif(has_explain, reason="the engine has ag::explain")
def test_explain_options_are_refused_without_explain():
    with pytest.raises(agrad.Error, match="explain"):
        agrad.draw(agrad.Value(1.0) * 2, edge_derivatives=True)


@pytest.mark.skipif(not has_grad, reason="this engine has no ag::grad")
def test_grad_and_higher_order():
    x = agrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x * x).sum()
    (g,) = agrad.grad(y, [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), [3.0, 12.0])  # 3x^2
    assert x.grad is None  # .grad untouched
    (h,) = agrad.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])  # 6x
    hess = agrad.hessian(lambda t: (t * t * t).sum(), agrad.tensor([1.0, 2.0]))
    np.testing.assert_allclose(hess.numpy(), [[6.0, 0.0], [0.0, 12.0]])
    jac = agrad.jacobian(lambda t: t * t, agrad.tensor([1.0, -3.0]))
    np.testing.assert_allclose(jac.numpy(), [[2.0, 0.0], [0.0, -6.0]])
    hv = agrad.hvp(lambda t: (t * t * t).sum(), agrad.tensor([1.0, 2.0]), agrad.tensor([1.0, 1.0]))
    np.testing.assert_allclose(hv.numpy(), [6.0, 12.0])

    v = agrad.Value(2.0)
    (dv,) = agrad.grad(v * v * v, [v], create_graph=True)
    assert dv.data == 12.0
    (ddv,) = agrad.grad(dv, [v])
    assert ddv.data == 12.0  # 6x
    with pytest.raises(agrad.Error):
        agrad.grad((x * 2).sum(), [agrad.tensor([1.0], requires_grad=True)])  # unused input

    # backward(create_graph=True): the stored gradient has history and differentiates again
    z = agrad.tensor([3.0], requires_grad=True)
    (z * z * z).sum().backward(create_graph=True)
    assert z.grad.requires_grad and z.grad.tolist() == [27.0]
    (second,) = agrad.grad(z.grad.sum(), [z])
    assert second.tolist() == [18.0]
    z.zero_grad()  # breaks the leaf -> gradient -> leaf cycle
    w = agrad.Value(2.0)
    (w * w * w).backward(create_graph=True)
    assert w.grad == 12.0


@pytest.mark.skipif(has_grad, reason="the engine has higher-order gradients")
def test_create_graph_is_refused_without_higher_order():
    x = agrad.tensor([1.0], requires_grad=True)
    with pytest.raises(agrad.Error, match="create_graph"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(agrad.Error, match="create_graph"):
        agrad.Value(2.0).backward(create_graph=True)
