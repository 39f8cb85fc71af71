"""Small pieces shared by ``tnfast repro agreement`` and ``tnfast repro compression``: a cache
of trained networks, the tensorization configuration syntax and progress bars."""

from __future__ import annotations

import hashlib
import json
import pathlib
import time

__all__ = ["EmbeddingConfig", "parse_config", "trained_mlp", "progress_bar"]


class EmbeddingConfig:
    """Embedding name, dimension ``d`` and TT-RSS ``domain_multiplier`` of one tensorization.

    Written ``name:dim[:multiplier]``, e.g. ``poly:2``, ``unit:3``, ``legendre:3:2``."""

    def __init__(self, name: str, dim: int, multiplier: int = 1):
        self.name, self.dim, self.multiplier = str(name), int(dim), int(multiplier)

    @property
    def label(self) -> str:
        return f"{self.name}:{self.dim}:{self.multiplier}"

    def kwargs(self) -> dict:
        return {"embedding": self.name, "dim": self.dim, "domain_multiplier": self.multiplier}

    def __repr__(self) -> str:
        return f"EmbeddingConfig({self.label})"


def parse_config(text: str) -> EmbeddingConfig:
    """``"poly:3"`` -> EmbeddingConfig("poly", 3, 1); ``"unit:2:2"`` -> multiplier 2."""
    from ..embeddings import get_embedding

    parts = str(text).split(":")
    if not 2 <= len(parts) <= 3:
        raise ValueError(f"embedding config: expected 'name:dim' or 'name:dim:multiplier', got {text!r}")
    try:
        dim = int(parts[1])
        mult = int(parts[2]) if len(parts) == 3 else 1
    except ValueError:
        raise ValueError(f"embedding config: dim and multiplier must be integers, got {text!r}") from None
    if dim < 2 or mult < 1:
        raise ValueError(f"embedding config: expected dim >= 2 and multiplier >= 1, got {text!r}")
    get_embedding(parts[0], dim)  # an unknown name fails here, with the known ones listed
    return EmbeddingConfig(parts[0], dim, mult)


def trained_mlp(cache_dir, key: dict, build, train):
    """A trained network, read from ``cache_dir`` when a run with the same ``key`` (a JSON-able
    dict: data, sizes, epochs, seed...) stored it, else ``train(build())`` and stored.

    Returns ``(model, record)`` where ``record`` is what ``train`` returned (a JSON-able dict),
    with ``cached`` set to whether the network came from the cache."""
    import torch

    blob = json.dumps(key, sort_keys=True)
    name = "net-" + hashlib.sha1(blob.encode()).hexdigest()[:12]
    folder = pathlib.Path(cache_dir)
    wpath, rpath = folder / f"{name}.pt", folder / f"{name}.json"
    model = build()
    if wpath.exists() and rpath.exists():
        state = torch.load(wpath, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        record = json.loads(rpath.read_text())["record"]
        record["cached"] = True
        return model, record
    t0 = time.perf_counter()
    record = dict(train(model))
    record["train_time_s"] = time.perf_counter() - t0
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), wpath)
    rpath.write_text(json.dumps({"key": key, "record": record}, indent=2, default=float))
    record["cached"] = False
    return model, record


def progress_bar(total: int, desc: str, enabled: bool = True):
    """A tqdm bar over ``total`` steps (a do-nothing stand-in when disabled or tqdm is absent, see
    ``_ui.progress``)."""
    from ._ui import progress

    return progress(total=total, desc=desc, enabled=enabled)
