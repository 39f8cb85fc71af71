"""``tnfast repro tnn``: tensor neural networks trained by DMRG-like sweeps (Jahromi & Orus).

Three tasks, each trained four ways on the same data with the same number of mini-batch steps:

* ``sweep-1site`` / ``sweep-2site``: :class:`tnfast.nn.SweepTrainer` on the MPO layer (local Adam
  steps at every position, the other parameters by Adam jointly); the two-site runs start at a
  small bond and let the truncated SVD (``--max-bond``, ``--cutoff``) choose the bonds;
* ``adam``: plain Adam on every parameter of the same MPO model;
* ``dense``: the same network with a dense layer in place of the MPO layer, by Adam.

Tasks: ``linear`` (a linear map ``y = W x + noise`` from 16 to 16 variables, ``W`` of MPO bond 2;
the model is one MPO layer), ``nonlinear`` (Friedman's function
``10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5`` of 16 uniform variables, 11 of them
irrelevant; model MPO 16->64, ReLU, dense 64->1) and ``mnist`` (one epoch; the network is
784 -> MPO 256 (modes 4,7,7,4 -> 4,4,4,4) -> ReLU -> dense 10, a hybrid tensor network with the
MPO-Net modes: the exact network of the paper was not available offline, so this is a stand-in of
the same kind).  ``--digits`` runs the classification on scikit-learn's 8x8 digits (smoke size).

Reported per run: test error (relative RMSE for regression, accuracy for classification), the
number of parameters, the wall time, the bonds at the end; and the entanglement entropy per bond
over the sweeps (``entropy_<task>.png``).  Results go to ``--out/results.json``.
"""

from __future__ import annotations

import json
import math
import pathlib
import time

from .._cli_types import positive_float, positive_int

__all__ = ["run", "register_repro", "friedman", "tnn_model"]

METHODS = ("sweep-1site", "sweep-2site", "adam", "dense")


# ----------------------------------------------------------------------------------------------
# data and models
# ----------------------------------------------------------------------------------------------

def friedman(n, n_vars=16, seed=0, noise=0.0):
    """Friedman's non-linear regression function on ``n`` uniform points of ``n_vars >= 5`` variables."""
    import torch
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, n_vars, generator=g)
    y = (10 * torch.sin(math.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4])
    y = y + noise * torch.randn(n, generator=g)
    return x, y[:, None]


def linear_teacher():
    """The map of the linear task: an MPO of bond 2 (fixed, seed 1234), unscaled."""
    import torch

    from tnfast.nn import MPOLinear
    torch.manual_seed(1234)
    return MPOLinear(16, 16, (2, 2, 2, 2), (2, 2, 2, 2), bond_dim=2, bias=False)


def linear_task(n, seed=0, noise=0.01):
    """``y = W x + noise`` with ``W (16, 16)`` the :func:`linear_teacher` scaled to norm 4, Gaussian ``x``."""
    import torch

    teacher = linear_teacher()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 16, generator=g)
    with torch.no_grad():
        y = teacher(x)
        y = y / teacher.to_dense().norm() * 4.0
    return x, y + noise * torch.randn(y.shape, generator=g)


def tnn_model(task, mpo=True, bond=4, seed=0):
    """The network of a task (``mpo=False``: its dense twin)."""
    import torch
    from torch import nn

    from tnfast.nn import MPOLinear
    torch.manual_seed(seed)
    if task == "linear":
        return MPOLinear(16, 16, (2, 2, 2, 2), (2, 2, 2, 2), bond_dim=bond) if mpo else nn.Linear(16, 16)
    if task == "nonlinear":
        first = MPOLinear(16, 64, (2, 2, 2, 2), (4, 4, 2, 2), bond_dim=bond) if mpo else nn.Linear(16, 64)
        return nn.Sequential(first, nn.ReLU(), nn.Linear(64, 1))
    if task == "mnist":
        first = (MPOLinear(784, 256, (4, 7, 7, 4), (4, 4, 4, 4), bond_dim=bond) if mpo else nn.Linear(784, 256))
        return nn.Sequential(nn.Flatten(), first, nn.ReLU(), nn.Linear(256, 10))
    if task == "digits":
        first = MPOLinear(64, 64, (2, 4, 4, 2), (2, 4, 4, 2), bond_dim=bond) if mpo else nn.Linear(64, 64)
        return nn.Sequential(nn.Flatten(), first, nn.ReLU(), nn.Linear(64, 10))
    raise ValueError(f"task: unknown {task!r}")


def _data(task, n_train, seed, root=None):
    import torch
    if task == "linear":
        xtr, ytr = linear_task(n_train, seed)
        xte, yte = linear_task(2000, seed + 100)
    elif task == "nonlinear":
        xtr, ytr = friedman(n_train, seed=seed)
        xte, yte = friedman(2000, seed=seed + 100)
    elif task == "mnist":
        from tnfast.datasets import load_mnist
        xtr, ytr = load_mnist("train", root=root)
        xte, yte = load_mnist("test", root=root)
        if n_train is not None:
            xtr, ytr = xtr[:n_train], ytr[:n_train]
        norm = lambda a: (torch.from_numpy(a.astype("float32") / 255.0) - 0.1307) / 0.3081  # noqa: E731
        xtr, xte = norm(xtr).reshape(len(xtr), -1), norm(xte).reshape(len(xte), -1)
        ytr, yte = torch.from_numpy(ytr.astype("int64")), torch.from_numpy(yte.astype("int64"))
    elif task == "digits":
        from tnfast.datasets import load_digits
        x, y = load_digits()
        x = torch.from_numpy(x.reshape(len(x), -1) / 16.0).float()
        y = torch.from_numpy(y)
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
        x, y = x[perm], y[perm]
        xtr, ytr, xte, yte = x[:1300], y[:1300], x[1300:], y[1300:]
    else:
        raise ValueError(f"task: unknown {task!r}")
    return xtr, ytr, xte, yte


def _metric(task, model, x, y):
    import torch
    with torch.no_grad():
        out = torch.cat([model(x[t:t + 4096]) for t in range(0, len(x), 4096)])
    if task in ("mnist", "digits"):
        return {"accuracy": float((out.argmax(1) == y).float().mean())}
    return {"rel_rmse": float(((out - y) ** 2).mean().sqrt() / y.std())}


def _loss_fn(task):
    from torch.nn import functional as F
    return F.cross_entropy if task in ("mnist", "digits") else F.mse_loss


def _count(model):
    return int(sum(p.numel() for p in model.parameters()))


# ----------------------------------------------------------------------------------------------
# one run
# ----------------------------------------------------------------------------------------------

def _adam_run(model, task, xtr, ytr, steps, batch_size, lr, seed):
    import torch
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = _loss_fn(task)
    g = torch.Generator().manual_seed(seed)
    done = 0
    while done < steps:
        order = torch.randperm(len(xtr), generator=g)
        for t in range(0, len(xtr), batch_size):
            if done >= steps:
                break
            idx = order[t:t + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            done += 1
    return None


def _tt_svd_start(task, bond, seed, xtr, ytr, steps, batch_size, dense_lr):
    """The MPO model fitted by TT-SVD (bond ``bond``) to its dense twin trained by Adam for ``steps``."""
    import torch

    from tnfast.nn import MPOLinear
    dense = tnn_model(task, mpo=False, seed=seed)
    _adam_run(dense, task, xtr, ytr, steps, batch_size, dense_lr, seed)
    model = tnn_model(task, mpo=True, bond=bond, seed=seed)
    for name, mod in list(model.named_children()):
        if isinstance(mod, MPOLinear):
            fitted = MPOLinear.from_dense(dict(dense.named_children())[name], mod.in_modes, mod.out_modes,
                                          max_bond=bond)
            setattr(model, name, fitted)
        elif list(mod.parameters()):
            dict(model.named_children())[name].load_state_dict(dict(dense.named_children())[name].state_dict())
    return model


def run_task(task, *, n_train=None, epochs=1, batch_size=32, bond=4, start_bond=2, max_bond=8, cutoff=1e-2,
             sweeps=4, lr=1e-2, sweep_lr=1e-2, dense_lr=1e-3, seed=0, methods=METHODS, root=None, out=None,
             progress=True, init="random", local_steps=None, env_engine="auto", gradient="autograd",
             canonical=True, sweep_optimizer="adam", keep_optimizer_state=False):
    """Train ``task`` by each method; returns ``{"rows": [...], "entropy": {...}}``.

    ``init="tt-svd"`` starts the sweeps from the TT-SVD (bond ``bond``, also for two-site runs) of
    the dense network trained by Adam for the same number of steps first (so the sweeps see the
    data a second time); ``local_steps`` overrides the steps per position (default: the epochs'
    steps spread evenly over the sweeps); ``gradient``, ``env_engine``, ``canonical`` and
    ``sweep_optimizer`` (its ``optimizer``), ``keep_optimizer_state``: see :class:`SweepTrainer`.
    """
    import torch

    from tnfast.nn import SweepTrainer

    xtr, ytr, xte, yte = _data(task, n_train, seed, root=root)
    steps = max(1, int(round(epochs * math.ceil(len(xtr) / batch_size))))
    rows, ent_hist = [], {}
    for method in methods:
        t0, c0 = time.perf_counter(), time.process_time()
        hist = None
        if method == "dense":
            model = tnn_model(task, mpo=False, seed=seed)
            _adam_run(model, task, xtr, ytr, steps, batch_size, dense_lr, seed)
        elif method == "adam":
            model = tnn_model(task, mpo=True, bond=bond, seed=seed)
            _adam_run(model, task, xtr, ytr, steps, batch_size, lr, seed)
        else:
            sites = 1 if method == "sweep-1site" else 2
            pre = time.perf_counter(), time.process_time()
            if init == "tt-svd":
                model = _tt_svd_start(task, bond, seed, xtr, ytr, steps, batch_size, dense_lr)
                pre = time.perf_counter() - pre[0], time.process_time() - pre[1]
            else:
                pre = 0.0, 0.0
                model = tnn_model(task, mpo=True, bond=bond if sites == 1 else start_bond, seed=seed)
            tr = SweepTrainer(model, loss_fn=_loss_fn(task), lr=sweep_lr, sites=sites, max_bond=max_bond,
                              cutoff=cutoff, optimizer=sweep_optimizer, dense="joint", dense_lr=lr, seed=seed,
                              gradient=gradient, env_engine=env_engine, canonical=canonical,
                              keep_optimizer_state=keep_optimizer_state)
            local = local_steps or max(1, steps // (sweeps * tr.visits_per_sweep()))
            metrics = []

            def cb(trainer, rec, model=model):
                rec["test"] = _metric(task, model, xte, yte)
                metrics.append(rec["test"])
                if progress:
                    print(f"  [{task} {method}] sweep {rec['sweep']}: loss {rec['loss']:.4g} test {rec['test']} "
                          f"bonds {list(rec['bonds'].values())}", flush=True)
            t0, c0 = time.perf_counter(), time.process_time()
            tr.fit(xtr, ytr, sweeps=sweeps, batch_size=batch_size, local_steps=local, callback=cb)
            hist = [{k: r[k] for k in ("sweep", "loss", "bonds", "entropy", "discarded", "time_s", "test")}
                    for r in tr.history]
            ent_hist[method] = hist
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0  # sweeps: test evaluations included
        if hist is not None:  # the dense training of a TT-SVD start counts
            wall, cpu = wall + pre[0], cpu + pre[1]
        m = _metric(task, model, xte, yte)
        from tnfast.nn.sweep_trainer import mpo_layers
        bonds = {n: tuple(int(d) for d in l.bond_dims) for n, l in mpo_layers(model)} if method != "dense" else {}
        row = {"task": task, "method": method, "params": _count(model), "time_s": wall, "cpu_s": cpu,
               "bonds": bonds, **m}
        rows.append(row)
        if progress:
            print(f"[{task}] {method:12s} params {row['params']:>7,}  wall {wall:7.1f} s  CPU {cpu:7.1f} s  {m}  "
              f"bonds {bonds}",
                  flush=True)
    if out is not None and ent_hist:
        _plot_entropy(out, task, ent_hist)
    res = {"rows": rows, "sweeps": ent_hist, "steps": steps, "train_size": len(xtr), "test_size": len(xte)}
    if task == "linear":  # the entropies the sweeps should find
        res["teacher_entropy"] = [float(v) for v in linear_teacher().entropy()]
        if progress:
            print(f"[linear] entropy of the target map per bond: {res['teacher_entropy']}", flush=True)
    return res


def _plot_entropy(out, task, ent_hist):
    from ._work1 import pyplot, save_figure
    plt = pyplot(f"no figure is drawn in {out}")
    if plt is None:
        return None
    fig, axes = plt.subplots(1, len(ent_hist), figsize=(4.8 * len(ent_hist), 3.4), squeeze=False)
    for ax, (method, hist) in zip(axes[0], ent_hist.items()):
        name = next(iter(hist[0]["entropy"]))
        nb = len(hist[0]["entropy"][name])
        sw = [h["sweep"] for h in hist]
        for b in range(nb):
            ax.plot(sw, [h["entropy"][name][b] for h in hist], marker="o", ms=3,
                    label=f"bond {b + 1} (D={hist[-1]['bonds'][name][b]})")
        ax.set_title(f"{task}, {method}: layer {name}")
        ax.set_xlabel("sweep")
        ax.set_ylabel("entanglement entropy S")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out, f"entropy_{task}.png")


def _table(rows):
    lines = ["| task | method | params | wall (s) | CPU (s) | test | bonds |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        metric = (f"acc {100 * r['accuracy']:.2f} %" if "accuracy" in r else f"rel. RMSE {r['rel_rmse']:.4f}")
        lines.append(f"| {r['task']} | {r['method']} | {r['params']:,} | {r['time_s']:.1f} | {r['cpu_s']:.1f} | "
                     f"{metric} | "
                     f"{'; '.join(str(v) for v in r['bonds'].values())} |")
    return "\n".join(lines)


def run(tasks=("linear", "nonlinear", "mnist"), out="results/tnn", threads=2, progress=True, **kw):
    """Run the tasks; writes ``out/results.json``, ``out/table.md`` and the entropy plots."""
    import torch
    torch.set_num_threads(int(threads))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    per_task = {
        "linear": dict(n_train=4000, epochs=10, bond=4, start_bond=1, max_bond=8, sweeps=10, dense_lr=1e-2),
        "nonlinear": dict(n_train=4000, epochs=30, bond=4, start_bond=2, max_bond=8, sweeps=10, dense_lr=1e-2),
        "mnist": dict(n_train=None, epochs=1, bond=4, start_bond=2, max_bond=8, sweeps=4),
        "digits": dict(n_train=None, epochs=10, bond=4, start_bond=2, max_bond=8, sweeps=4),
    }
    results = {}
    rows = []
    for task in tasks:
        cfg = dict(per_task[task])
        cfg.update({k: v for k, v in kw.items() if v is not None})
        results[task] = run_task(task, out=out, progress=progress, **cfg)
        results[task]["config"] = cfg
        rows += results[task]["rows"]
        (out / "results.json").write_text(json.dumps({"results": results, "torch": torch.__version__,
                                                      "threads": threads}, indent=2, default=float))
    table = _table(rows)
    (out / "table.md").write_text(table + "\n")
    print(table)
    print(f"wrote {out / 'results.json'}, {out / 'table.md'} and the entropy plots")
    return results


def _cmd(args):
    tasks = tuple(args.task)
    if args.digits:
        tasks = tuple("digits" if t == "mnist" else t for t in tasks)
    run(tasks=tasks, out=args.out, threads=args.threads, progress=not args.no_progress, epochs=args.epochs,
        n_train=args.n_train, batch_size=args.batch_size, bond=args.bond, max_bond=args.max_bond,
        cutoff=args.cutoff, sweeps=args.sweeps, lr=args.lr, sweep_lr=args.sweep_lr, dense_lr=args.dense_lr,
        seed=args.seed, methods=tuple(args.methods) if args.methods else None, start_bond=args.start_bond,
        init=args.init, local_steps=args.local_steps, gradient=args.gradient, sweep_optimizer=args.sweep_optimizer,
        canonical=not args.no_canonical, keep_optimizer_state=args.keep_optimizer_state)
    return 0


def register_repro(sub):
    p = sub.add_parser("tnn", help="tensor neural networks by DMRG-like sweeps: regression and MNIST "
                                   "(one-/two-site sweeps vs Adam vs dense)")
    p.add_argument("--task", nargs="+", choices=["linear", "nonlinear", "mnist"],
                   default=["linear", "nonlinear", "mnist"])
    p.add_argument("--digits", action="store_true", help="classify scikit-learn's 8x8 digits instead of MNIST")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=None)
    p.add_argument("--out", default="results/tnn")
    p.add_argument("--epochs", type=positive_float, default=None, help="passes over the training data "
                   "(default per task: linear 10, nonlinear 30, mnist 1)")
    p.add_argument("--n-train", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--bond", type=positive_int, default=None, help="MPO bond of the fixed-bond runs (default 4)")
    p.add_argument("--max-bond", type=positive_int, default=None, help="two-site cap (default 8)")
    p.add_argument("--cutoff", type=float, default=None, help="two-site relative cutoff (default 1e-2)")
    p.add_argument("--sweeps", type=positive_int, default=None)
    p.add_argument("--lr", type=positive_float, default=None, help="Adam on the MPO model (default 1e-2)")
    p.add_argument("--sweep-lr", type=positive_float, default=None, help="local Adam steps (default 1e-2)")
    p.add_argument("--dense-lr", type=positive_float, default=None,
                   help="the dense baseline (default 1e-2 regression, 1e-3 MNIST)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--start-bond", type=positive_int, default=None,
                   help="bond the two-site runs start from (default 2; 1 for linear)")
    p.add_argument("--init", choices=["random", "tt-svd"], default=None,
                   help="sweep start: random cores, or the TT-SVD of the dense net trained first (default random)")
    p.add_argument("--local-steps", type=positive_int, default=None,
                   help="mini-batch steps per position (default: the epochs' steps spread over the sweeps)")
    p.add_argument("--gradient", choices=["autograd", "environment"], default=None,
                   help="local gradients of the sweeps (default autograd)")
    p.add_argument("--sweep-optimizer", choices=["adam", "sgd"], default=None,
                   help="local optimizer of the sweeps (default adam; sgd keeps two-site splits from cutting "
                        "the weight that Adam's first steps spread over every direction)")
    p.add_argument("--no-canonical", action="store_true", help="sweep without the mixed canonical form")
    p.add_argument("--keep-optimizer-state", action="store_true",
                   help="carry the local Adam moments of a position to its next visit")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd)
