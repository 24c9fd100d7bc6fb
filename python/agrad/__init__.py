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
from ._core import nn, Error, Value, Tensor, draw, to_dot  # noqa: F401

__all__ = [name for name in dir(_core) if not name.startswith("_")]
__version__ = "0.1.0"


class _Sequential(nn.Sequential):
    """Runs its modules in order: Sequential(Dense(2, 3), ReLU(), Dense(3, 1)).

    Children are named "0", "1", ... unless added with add(module, name). net[i] is the
    module object that was added.
    """

    def __init__(self, *modules):
        super().__init__()
        self._modules = []
        for module in modules:
            self.add(module)

    def add(self, module, name=""):
        super().add(module, name)
        self._modules.append(module)
        return self

    def __getitem__(self, index):
        return self._modules[index]

    def __iter__(self):
        return iter(self._modules)


_Sequential.__name__ = _Sequential.__qualname__ = "Sequential"
_Sequential.__module__ = "agrad.nn"
nn.Sequential = _Sequential
