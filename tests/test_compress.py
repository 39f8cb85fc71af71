import math

import pytest

torch = pytest.importorskip("torch")

from tnfast.nn import MPOConv2d, MPOLinear, compress  # noqa: E402
from tnfast.nn import models as M  # noqa: E402
from tnfast.nn.compress import compressible_layers  # noqa: E402
from tnfast.nn.training import TensorLoader, evaluate, fine_tune, train  # noqa: E402


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 12, 3, padding=1)
        self.fc1 = torch.nn.Linear(12 * 16, 36)
        self.fc2 = torch.nn.Linear(36, 10)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def digits_model(_one_thread):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.tensor(d.images[:, None] / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.int64)
    torch.manual_seed(0)
    model = Small()
    loader = TensorLoader(x[:1400], y[:1400], batch_size=64, shuffle=True, seed=0)
    train(model, loader, 4, lr=3e-3, progress=False)
    test = TensorLoader(x[1400:], y[1400:], batch_size=500)
    return model, loader, test, x[1400:]


def test_full_bond_compression_keeps_outputs(digits_model):
    model, _, _, xt = digits_model
    new, report = compress(model, allow_larger=True)
    assert [r["name"] for r in report] == ["conv", "conv2", "fc1", "fc2"]
    assert all(r["replaced"] for r in report)
    assert isinstance(new.fc1, MPOLinear) and isinstance(new.conv2, MPOConv2d)
    assert isinstance(model.fc1, torch.nn.Linear)  # not in place
    with torch.no_grad():
        assert torch.allclose(new(xt), model(xt), atol=1e-4, rtol=1e-4)
    for r in report:
        dense = dict(model.named_modules())[r["name"]]
        mpo = dict(new.named_modules())[r["name"]]
        assert r["dense_params"] == sum(p.numel() for p in dense.parameters())
        assert r["mpo_params"] == sum(p.numel() for p in mpo.parameters()) == mpo.num_params
        assert math.isclose(r["ratio"], r["dense_params"] / r["mpo_params"])
        assert r["rel_error"] < 1e-5


def test_truncated_compression_then_fine_tune(digits_model):
    model, loader, test, _ = digits_model
    base = evaluate(model, test)["accuracy"]
    new, report = compress(model, layers=["fc1", "conv2"], max_bond=2,
                           modes={"fc1": ((4, 4, 12), (3, 3, 4))})
    r = {d["name"]: d for d in report}
    assert r["fc1"]["in_modes"] == [4, 4, 12] and r["fc1"]["out_modes"] == [3, 3, 4]
    assert r["fc1"]["mpo_params"] < r["fc1"]["dense_params"]
    assert 0 < r["fc1"]["rel_error"] < 1
    assert isinstance(new.conv, torch.nn.Conv2d) and isinstance(new.fc2, torch.nn.Linear)
    start = evaluate(new, test)["accuracy"]
    hist = fine_tune(new, loader, 3, lr=3e-3, test_loader=test, progress=False)
    assert hist["test_acc"][-1] > max(start, 0.5 * base)
    assert len(hist["train_loss"]) == 3


def test_skip_first_last_and_inplace():
    torch.manual_seed(0)
    model = M.fc2()
    x = torch.randn(3, 784)
    ref = model(x)
    _, report = compress(model, skip_last=True, max_bond=4, inplace=True)
    assert [d["name"] for d in report] == ["fc1"]
    assert isinstance(model.fc1, MPOLinear) and isinstance(model.fc2, torch.nn.Linear)
    assert model(x).shape == ref.shape
    assert compressible_layers(M.lenet5()) == ["conv1", "conv2", "fc1", "fc2", "fc3"]


def test_published_model_parameter_counts():
    fc2 = M.fc2(mpo=True)
    assert fc2.fc1.num_params - 256 == 1024 and fc2.fc2.num_params - 10 == 736
    le = M.lenet5(mpo=True)
    assert [le.fc1.num_params - 120, le.fc2.num_params - 84, le.fc3.num_params - 10] == [1792, 944, 124]
    x = torch.randn(2, 1, 28, 28)
    assert fc2(x).shape == (2, 10) and le(x).shape == (2, 10)
    for build in (M.vgg_small, M.resnet_small, M.densenet_small):
        dense = build()
        mpo = build(mpo_convs=True, mpo_fc=True)
        xx = torch.randn(2, 3, 32, 32)
        assert mpo(xx).shape == (2, 10)
        assert M.count_params(mpo) < M.count_params(dense)


def test_bad_arguments():
    model = M.fc2()
    with pytest.raises(ValueError, match="layers"):
        compress(model, layers=["nope"])
    with pytest.raises(TypeError, match="layers"):
        compress(model, layers="fc1")
    with pytest.raises(ValueError, match="modes"):
        compress(model, layers=["fc1"], modes={"fc2": ((4, 4, 4, 4), (1, 10, 1, 1))})
    with pytest.raises(ValueError, match="in_modes"):
        compress(model, layers=["fc1"], modes={"fc1": ((4, 4), (16, 16))})
    with pytest.raises(TypeError, match="model"):
        compress("model")
    with pytest.raises(ValueError, match="cutoff"):
        compress(model, cutoff=-0.5)


@pytest.mark.slow
def test_mnist_job_quick(data_dir, tmp_path):
    import json

    from tnfast.experiments import mpo_mnist
    res = mpo_mnist.run(epochs=1, out=tmp_path, quick=True, archs=("fc2",), threads=1, root=data_dir,
                        progress=False)
    saved = json.loads((tmp_path / "results.json").read_text())
    layers = saved["results"]["fc2"]["layers"]
    assert [d["mpo_core_params"] for d in layers] == [1024, 736]
    assert res["results"]["fc2"]["final_test_acc"]["dense"] > 0.8
    assert (tmp_path / "accuracy_vs_epoch.png").is_file()


def test_random_shift_translates_digits():
    from tnfast.nn.training import random_shift
    x = torch.full((6, 1, 8, 8), -1.0)
    x[:, 0, 3, 4] = 5.0  # one bright pixel on a -1 background
    gen = torch.Generator().manual_seed(0)
    y = random_shift(x, gen, pad=2)
    assert y.shape == x.shape
    moved = 0
    for t in range(6):
        pos = (y[t, 0] == 5.0).nonzero()
        assert len(pos) == 1  # the pixel survives (shifts of at most 2 px keep it inside)
        r, c = pos[0].tolist()
        assert abs(r - 3) <= 2 and abs(c - 4) <= 2
        moved += (r, c) != (3, 4)
        assert torch.all(y[t][y[t] != 5.0] == -1.0)  # the border is filled with the background
    assert moved > 0
