"""agrad.nn from Python: losses and optimizer trajectories against the stored PyTorch values
(tests/data/nn_refs.txt, made by tools/make_nn_refs.py), modules, checkpoints."""
import numpy as np
import pytest

import agrad
from agrad import nn
from conftest import SOURCE_DIR


def refs():
    values = {}
    for line in (SOURCE_DIR / "tests" / "data" / "nn_refs.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _count, *numbers = line.split()
        values[name] = np.array([float(x) for x in numbers])
    return values


REFS = refs()


def test_losses_match_pytorch():
    pred = agrad.tensor(REFS["mse.pred"], requires_grad=True)
    loss = nn.mse_loss(pred, agrad.tensor(REFS["mse.target"]))
    loss.backward()
    assert loss.item() == pytest.approx(REFS["mse.loss"][0], rel=1e-12)
    np.testing.assert_allclose(pred.grad.numpy(), REFS["mse.grad"], rtol=1e-12)

    logits = agrad.tensor(REFS["ce.logits"].reshape(4, 3), requires_grad=True)
    loss = nn.cross_entropy(logits, REFS["ce.labels"].astype(np.int64))
    loss.backward()
    assert loss.item() == pytest.approx(REFS["ce.loss"][0], rel=1e-12)
    np.testing.assert_allclose(logits.grad.numpy().ravel(), REFS["ce.grad"], rtol=1e-9, atol=1e-15)

    probs = agrad.tensor(REFS["bce.probs"], requires_grad=True)
    loss = nn.binary_cross_entropy(probs, agrad.tensor(REFS["bce.targets"]))
    loss.backward()
    assert loss.item() == pytest.approx(REFS["bce.loss"][0], rel=1e-12)
    np.testing.assert_allclose(probs.grad.numpy(), REFS["bce.grad"], rtol=1e-12)

    x = agrad.tensor(REFS["bcel.logits"], requires_grad=True)
    loss = nn.binary_cross_entropy_with_logits(x, agrad.tensor(REFS["bcel.targets"]))
    loss.backward()
    assert loss.item() == pytest.approx(REFS["bcel.loss"][0], rel=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), REFS["bcel.grad"], rtol=1e-9, atol=1e-15)


OPTIMIZERS = {
    "sgd": lambda p: nn.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: nn.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda p: nn.Adam(p, lr=0.05),
    "adam_decay": lambda p: nn.Adam(p, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-7, decay=0.5),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectories_match_pytorch(name):
    a = agrad.tensor(REFS["opt.A"].reshape(4, 3))
    y = agrad.tensor(REFS["opt.Y"].reshape(4, 2))
    w = agrad.tensor(REFS["opt.w0"].reshape(3, 2), requires_grad=True)
    b = agrad.tensor(REFS["opt.b0"], requires_grad=True)
    opt = OPTIMIZERS[name]([w, b])
    for _ in range(5):
        opt.zero_grad()
        diff = a @ w + b - y
        (diff * diff).mean().backward()
        opt.step()
    assert opt.steps == 5
    np.testing.assert_allclose(w.numpy().ravel(), REFS[name + ".w"], rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), REFS[name + ".b"], rtol=1e-12)


def test_dense_sequential_and_parameters():
    gen = agrad.Generator(0)
    net = nn.Sequential(nn.Dense(2, 4, "he_normal", gen, dtype=agrad.float64), nn.ReLU(),
                        nn.Dense(4, 3, nn.Init.xavier_normal, gen, dtype=agrad.float64))
    assert len(net) == 3
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert net.num_parameters() == 2 * 4 + 4 + 4 * 3 + 3
    assert net[0].weight.shape == (2, 4) and net[0].in_features == 2
    assert "Dense(2, 4, float64)" in repr(net)
    x = agrad.tensor(np.array([[1.0, -2.0], [0.5, 0.25]]))
    out = net(x)
    d0, d2 = net[0], net[2]
    by_hand = np.maximum(x.numpy() @ d0.weight.numpy() + d0.bias.numpy(), 0) @ d2.weight.numpy() + d2.bias.numpy()
    np.testing.assert_allclose(out.numpy(), by_hand, rtol=1e-12)
    # training one step moves every parameter the SGD rule says
    before = [p.numpy().copy() for p in net.parameters()]
    opt = nn.SGD(net.named_parameters(), lr=0.1)
    nn.cross_entropy(out, [0, 2]).backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    opt.step()
    for p, b, g in zip(net.parameters(), before, grads):
        np.testing.assert_allclose(p.numpy(), b - 0.1 * g, rtol=1e-12)
    net.eval()
    assert not net.training and not net[0].training


def test_activations_by_name():
    x = agrad.tensor([-1.0, 2.0])
    assert nn.make_activation("relu")(x).tolist() == [0.0, 2.0]
    assert nn.Tanh()(x).tolist() == pytest.approx(np.tanh([-1.0, 2.0]).tolist())
    assert nn.Identity()(x).tolist() == [-1.0, 2.0]
    with pytest.raises(agrad.Error):
        nn.make_activation("swish")


def test_checkpoint_round_trip_and_refusal(tmp_path):
    net = nn.Sequential(nn.Dense(2, 3, generator=1), nn.Tanh(), nn.Dense(3, 1, generator=2))
    opt = nn.Adam(net.named_parameters(), lr=0.01)
    x = agrad.tensor(np.ones((4, 2), dtype=np.float32))
    nn.mse_loss(net(x), agrad.zeros([4, 1])).backward()
    opt.step()
    path = tmp_path / "net.safetensors"
    nn.save_checkpoint(path, net, opt, {"epoch": "1"})
    saved = [p.numpy().copy() for p in net.parameters()]

    other = nn.Sequential(nn.Dense(2, 3, generator=7), nn.Tanh(), nn.Dense(3, 1, generator=8))
    other_opt = nn.Adam(other.named_parameters(), lr=0.01)
    assert nn.load_checkpoint(path, other, other_opt) == {"epoch": "1"}
    for p, s in zip(other.parameters(), saved):
        np.testing.assert_array_equal(p.numpy(), s)
    assert other_opt.steps == 1

    wrong = nn.Sequential(nn.Dense(2, 5, generator=3))
    before = wrong[0].weight.numpy().copy()
    with pytest.raises(agrad.Error) as info:
        nn.load_checkpoint(path, wrong)
    assert str(path) in str(info.value) or "net.safetensors" in str(info.value)
    np.testing.assert_array_equal(wrong[0].weight.numpy(), before)  # unchanged

    tensors, meta = nn.load_safetensors(path)
    assert "0.weight" in tensors and meta == {"epoch": "1"}


def test_spiral_data_reproduces_nnfs():
    X, y = nn.spiral_data(100, 3, nn.NumpyRandom(0), noise=0.2, dtype=agrad.float64)
    assert X.shape == (300, 2) and y.dtype == np.int64 and list(np.bincount(y)) == [100, 100, 100]
    # NNFS: np.random.seed(0); the first random draw is 1.764052345967664
    assert nn.NumpyRandom(0).randn() == 1.764052345967664
