"""NumPy in (one copy) and out (zero-copy views that keep their tensor alive)."""
import gc

import numpy as np
import pytest

import agrad


def address(array):
    return array.__array_interface__["data"][0]


def test_views_share_the_tensors_memory():
    t = agrad.tensor(np.arange(12.0).reshape(3, 4))
    a, b = t.numpy(), t.numpy()
    assert address(a) == address(b)
    assert np.shares_memory(a, b)
    assert np.shares_memory(a, np.asarray(t))
    assert np.shares_memory(a, np.asarray(memoryview(t)))
    assert a.shape == (3, 4) and a.dtype == np.float64
    np.testing.assert_array_equal(a, np.arange(12.0).reshape(3, 4))


def test_view_sees_in_place_optimizer_steps():
    w = agrad.tensor([1.0, 2.0], requires_grad=True)
    view = w.numpy()
    (w * w).sum().backward()
    agrad.nn.SGD([w], lr=0.5).step()  # w -= 0.5 * 2w = 0
    np.testing.assert_array_equal(view, [0.0, 0.0])


def test_views_are_read_only_unless_asked():
    t = agrad.tensor([1.0, 2.0, 3.0], dtype=agrad.float32)
    view = t.numpy()
    assert view.dtype == np.float32
    with pytest.raises(ValueError):
        view[0] = 5.0
    with pytest.raises(TypeError):
        memoryview(t)[0] = 5.0
    writable = t.numpy(writable=True)
    writable[0] = 5.0
    assert t.tolist() == [5.0, 2.0, 3.0]


def test_a_view_outlives_its_tensor_safely():
    t = agrad.tensor(np.full((1000,), 7.0))
    view = t.numpy()
    grad_view = None
    del t
    gc.collect()
    # the view's base holds the tensor: the memory is still the tensor's and still valid
    agrad.release_cached_memory()
    churn = [agrad.zeros([1000], dtype=agrad.float64) + 1.0 for _ in range(50)]
    assert (view == 7.0).all()
    del churn
    w = agrad.tensor([1.0, 2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    grad_view = w.grad.numpy()  # the grad tensor is a temporary: the view keeps it
    w.zero_grad()
    del w
    gc.collect()
    np.testing.assert_array_equal(grad_view, [3.0, 3.0])


def test_view_keeps_exactly_one_reference_chain():
    t = agrad.tensor([1.0, 2.0])
    view = t.numpy()
    del view
    gc.collect()
    assert t.tolist() == [1.0, 2.0]


def test_inputs_are_copied_whatever_their_layout():
    base = np.arange(24.0).reshape(4, 6)
    strided = base[::2, 1::2]  # not contiguous
    t = agrad.tensor(strided)
    np.testing.assert_array_equal(t.numpy(), strided)
    transposed = agrad.tensor(base.T)
    np.testing.assert_array_equal(transposed.numpy(), base.T)
    fortran = agrad.tensor(np.asfortranarray(base))
    np.testing.assert_array_equal(fortran.numpy(), base)
    # a copy: changing the source later does not change the tensor
    base[0, 1] = -1.0
    assert t.numpy()[0, 0] == 1.0


def test_dtypes():
    assert agrad.tensor(np.ones(3, dtype=np.float32)).dtype == agrad.float32
    assert agrad.tensor(np.ones(3)).dtype == agrad.float64
    assert agrad.tensor([1, 2, 3]).dtype == agrad.float64
    assert agrad.tensor(np.array([True, False])).tolist() == [1.0, 0.0]
    assert agrad.tensor([1.5], dtype="float32").dtype == agrad.float32
    assert agrad.tensor([1.5], dtype=np.float64).dtype == agrad.float64
    assert agrad.tensor(np.float64(2.5)).shape == ()
    assert agrad.tensor(7.0).item() == 7.0
    with pytest.raises(agrad.Error, match="complex"):
        agrad.tensor(np.array([1j]))
    with pytest.raises(agrad.Error, match="int8"):
        agrad.tensor([1.0], dtype=np.int8)


def test_numpy_arrays_mix_into_expressions():
    w = agrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = np.array([2.0, 0.5, -1.0])
    y = (x * w + w / x - x).sum()  # the array on the left must not turn this into NumPy
    assert isinstance(y, agrad.Tensor)
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), x + 1 / x)


def test_empty_and_zero_d():
    e = agrad.zeros([0, 3])
    assert e.numpy().shape == (0, 3)
    s = agrad.tensor(3.0).sum()
    assert s.numpy().shape == () and float(s.numpy()) == 3.0
