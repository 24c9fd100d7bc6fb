"""agrad: the autograd C++ engine from Python.

    import agrad
    x = agrad.Value(-4.0)
    y = agrad.relu(2 * x + 2) + x * x
    y.backward()
    x.grad            # dy/dx

Value and Tensor share one graph and one backward engine (C++); Tensors convert to NumPy
without copying (Tensor.numpy()). In Jupyter a Value or Tensor displays as its graph (SVG).
"""
from . import _core
from ._core import *  # noqa: F401,F403
from ._core import Error, Tensor, Value, draw, to_dot  # noqa: F401
del nn  # noqa: F821  the star import bound _core.nn; agrad.nn (nn.py) wraps it
from . import nn  # noqa: E402

__all__ = [name for name in dir(_core) if not name.startswith("_")]
__version__ = "0.1.0"

