"""agrad.nn: modules (Dense, activations, Sequential), losses, optimizers, data sets and
safetensors checkpoints, on the C++ engine's autograd::nn."""
from . import _core

_names = [name for name in dir(_core.nn) if not name.startswith("_")]
globals().update({name: getattr(_core.nn, name) for name in _names})
__all__ = list(_names)


class Sequential(_core.nn.Sequential):
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

