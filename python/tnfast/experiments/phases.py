"""``tnfast repro phases``: symmetry-protected topological phases read from tensorized black boxes.

``--aklt`` (Pareja Monturiol et al. 2025, interpretability): the spin-1 AKLT state is given to
TT-RSS only as a black box of amplitudes ``psi(s_1..s_n)`` (one-hot embedding, d = 3, rank 2),
with N pivots drawn exactly from ``|psi|^2``; for n = 100, 200, 500 and N on a grid, over
several seeds, the job reports the fidelity of the tensor train with the exact state and its
Z2 x Z2 SPT order parameter (:func:`tnfast.phases.spt_order`, blocks of 10 sites: -1 in the
Haldane phase).  Published: fidelity 1.00 from N = 10, 12, 14 and the order -1 from N ~ 8-10.

``--diagram``: the spin-1 chain ``H = sum S_i.S_{i+1} + D sum (S^z_i)^2`` (open ends) across the
Haldane / large-D transition, ``D_c = 0.9684713(1)`` (Y.-C. Tzeng, H. Onishi, T. Okubo, Y.-J. Kao,
arXiv:1705.01558, level spectroscopy with DMRG).  For every chain length n and every D
on a grid: the DMRG ground state (warm-started from the previous D), its SPT order (two
blocks of ``2 floor(n / 8)`` (about n / 4) sites in the middle) and string order; then the state is tensorized as a
black box of amplitudes by TT-RSS, rank = the DMRG bond, from N exact samples plus
``--edge-rows`` samples completed with every configuration of the first and last few sites
(:func:`edge_completions`: samples alone miss rare end configurations, so the end bonds
``3, 9, 27`` came out truncated and the order biased towards the trivial side at n = 16 and
24), checked on N fresh samples (a draw whose relative error there exceeds 0.2 is replaced, at
most twice, keeping the best); the same order parameter is read from the tensor train
(``--tensorize-sizes`` limits this to some lengths; DMRG alone elsewhere).  The transition
estimate for each n is where the order crosses 0, and for each pair of lengths where their
curves cross (:func:`crossing`, a cubic through the four nearest grid points; finite-size
scaling: the order at block length ~n/4 is a dimensionless ratio); the crossings are
extrapolated in ``1 / n_mean`` to ``1/n -> 0`` (:func:`extrapolate_crossings`: a parabola, with
the spread of linear fits as the uncertainty).

``--diagram --source network``: the black box tensorized at each (n, D) is not the DMRG state
but an ``ar-marshall`` network (:func:`tnfast.experiments.phases_network.train_on_state`)
trained by maximum likelihood on ``--train-samples`` exact samples of it (``--epochs``,
``--hidden``); the pivots are drawn from the DMRG state and the draw is checked against the
network itself and replaced (at most twice, keeping the best) when the Monte Carlo estimate of
their fidelity (:func:`~tnfast.experiments.phases_network.autoregressive_fidelity`, over exact
samples of the normalized train, where the network is evaluated) is below 0.9: an error at samples misses the weight a train puts where samples never
go (at n = 32 with 200 pivots a draw reached fidelity 0.12, and another 0.66 with a relative error
of 0.105 at samples, with a network of fidelity 0.999); each point also records the network's
Monte Carlo fidelity with the state.  The crossings of the tensorized-network curves are
extrapolated like the DMRG ones.  The network has the state's total ``S^z`` built in
(``--magnetization auto``: masked conditionals, so its amplitudes vanish outside the sector): TT-RSS evaluates the black box on spliced
configurations (the prefix of one pivot, the suffix of another), almost all outside the
sector, where an unconstrained network returns small nonzero values instead of the state's
zeros; at n = 16, D = 0.9 those values took the tensor train's fidelity from the network's
0.993 down to 0.80, and zeroing them gives 0.991.

``--network``: networks trained on samples of the AKLT state and of DMRG ground states, then
tensorized (:mod:`tnfast.experiments.phases_network`).

Writes ``results.json`` and plots to ``--out``.
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np

__all__ = ["run_aklt", "run_diagram", "register_repro"]

D_C = 0.96847  # Tzeng, Onishi, Okubo, Kao, arXiv:1705.01558 (J = Jz = 1)


def _blas_limit(threads):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(int(threads))


def _bar(iterable, desc, progress, total=None):
    if not progress:
        return iterable
    from ._ui import progress as _progress

    return _progress(iterable, desc=desc, total=total, leave=False, mininterval=0.1)


def _amplitudes(psi):
    """The black box: amplitudes of a state at integer configurations (batched)."""

    def f(x):
        return psi.evaluate(np.rint(x).astype(np.int64))

    return f


def edge_completions(x, sites, rows, d=3):
    """Extra pivots: the first ``rows`` samples with their first ``sites`` sites, and again with
    their last ``sites`` sites, set to every one of the ``d**sites`` local configurations.

    Samples from ``|psi|^2`` hold few distinct short prefixes and suffixes (a configuration of
    the last two or three sites with small weight is never drawn), so TT-RSS cannot resolve the
    exact bonds ``d, d^2, d^3`` at the chain ends and truncates them; the error spreads along
    the chain.  Completing a few samples at both ends gives every short prefix and suffix."""
    import itertools

    x = np.asarray(x)
    n = x.shape[1]
    sites = min(int(sites), n)
    if sites <= 0 or rows <= 0:
        return x[:0]
    combos = np.array(list(itertools.product(range(d), repeat=sites)), dtype=x.dtype)
    out = []
    for row in x[:rows]:
        for sl in (slice(0, sites), slice(n - sites, n)):
            a = np.repeat(row[None], len(combos), axis=0)
            a[:, sl] = combos
            out.append(a)
    return np.concatenate(out)


def tensorize_state(psi, n_samples, rank, seed=None, cutoff=None, edge_sites=0, edge_rows=4, f=None):
    """TT-RSS of a state seen only through its amplitudes, pivots drawn from ``|psi|^2``
    (plus :func:`edge_completions` when ``edge_sites > 0``).  ``f`` replaces the black box
    (default: the amplitudes of ``psi``; e.g. a network trained on it).

    Returns (tensor train, RSSInfo, pivots)."""
    from tnfast import phases as P
    from tnfast import tt_rss

    x = P.sample(psi, n_samples, seed=seed)
    d = psi.shape[0]
    if edge_sites > 0:
        x = np.unique(np.concatenate([x, edge_completions(x, edge_sites, edge_rows, d)]), axis=0)
    tt, info = tt_rss(_amplitudes(psi) if f is None else f, x.astype(np.float64), embedding="basis", dim=d,
                      domain=np.arange(d, dtype=np.float64), rank=rank, cutoff=cutoff, seed=seed)
    return tt, info, x


def _edge_sites(rank, n, d=3):
    """Enough end sites that their local configurations (``d**sites``) reach the bond ``rank``."""
    sites = 1
    while d ** sites < rank and sites < 4:
        sites += 1
    return min(sites, n // 4)


# ---- AKLT ------------------------------------------------------------------------------------
def run_aklt(sizes=(100, 200, 500), samples=(2, 4, 6, 8, 10, 12, 14, 16, 20), seeds=5, rank=2, block=10,
             progress=True):
    from tnfast import phases as P

    rows = []
    for n in sizes:
        psi = P.aklt(n)
        exact_order = P.spt_order(psi, block=block)
        for N in _bar(samples, f"aklt n={n}", progress):
            for s in range(seeds):
                t0 = time.perf_counter()
                tt, info, _ = tensorize_state(psi, N, rank, seed=1000 * s + N)
                dt = time.perf_counter() - t0
                fid = P.fidelity(tt, psi)
                try:
                    order = P.spt_order(tt, block=block)
                except ValueError:
                    order = float("nan")
                rows.append({"n": n, "N": N, "seed": s, "fidelity": fid, "spt_order": order,
                             "pivot_error": info.pivot_error, "bond_dims_max": max(info.bond_dims or (1,)),
                             "n_evals": info.n_evals, "time_s": dt, "exact_order": exact_order})
    table = []
    for n in sizes:
        for N in samples:
            r = [x for x in rows if x["n"] == n and x["N"] == N]
            fids = np.array([x["fidelity"] for x in r])
            ords = np.array([x["spt_order"] for x in r])
            table.append({"n": n, "N": N, "fidelity_mean": float(fids.mean()), "fidelity_min": float(fids.min()),
                          "frac_fidelity_ge_0.99": float(np.mean(fids >= 0.99)),
                          "fidelity_median": float(np.median(fids)),
                          # the median: a failed tensorization can make the untwisted swap ~0 and the
                          # ratio arbitrarily large, which a mean would show instead of the typical value
                          "spt_order_median": float(np.nanmedian(ords)) if np.isfinite(ords).any() else float("nan"),
                          "frac_order_lt_-0.99": float(np.mean(ords < -0.99)),
                          "time_s_mean": float(np.mean([x["time_s"] for x in r]))})
    first = {}
    for n in sizes:  # the smallest N from which every seed reaches fidelity >= 0.99 at every larger N
        ok = [t["N"] for t in table if t["n"] == n and t["fidelity_min"] >= 0.99]
        bad = [t["N"] for t in table if t["n"] == n and t["fidelity_min"] < 0.99]
        cand = [N for N in ok if all(b < N for b in bad)]
        first[n] = min(cand) if cand else None
    return {"rows": rows, "table": table, "first_N_all_seeds_fidelity_0.99": first, "rank": rank, "block": block,
            "seeds": seeds}


# ---- phase diagram -----------------------------------------------------------------------------
def _zero_crossing(xs, ys):
    """First D where ys changes sign from negative to positive (linear interpolation)."""
    for k in range(len(xs) - 1):
        if ys[k] <= 0 < ys[k + 1]:
            return float(xs[k] - ys[k] * (xs[k + 1] - xs[k]) / (ys[k + 1] - ys[k]))
    return None


def crossing(xs, ya, yb, degree=3, window=2):
    """Where two curves sampled on the same grid cross: the first sign change of ``ya - yb``,
    located on a polynomial of degree ``degree`` fitted to the difference on the ``window``
    grid points each side of the bracketing interval (fewer points near the ends of the grid;
    degree at most points - 1).  The default, a cubic through the four nearest points, removes
    the curvature error of linear interpolation (``O(h^2)`` on a grid of step h).  Returns None when the curves do not cross."""
    xs = np.asarray(xs, dtype=float)
    diff = np.asarray(ya, dtype=float) - np.asarray(yb, dtype=float)
    for k in range(len(xs) - 1):
        if diff[k] == 0:
            return float(xs[k])
        if diff[k] * diff[k + 1] < 0:
            lo, hi = max(0, k + 1 - window), min(len(xs), k + 1 + window)
            x, y = xs[lo:hi], diff[lo:hi]
            deg = min(int(degree), len(x) - 1)
            lin = float(xs[k] - diff[k] * (xs[k + 1] - xs[k]) / (diff[k + 1] - diff[k]))
            if deg <= 1:
                return lin
            c = np.polynomial.Polynomial.fit(x, y, deg)
            a, b = float(xs[k]), float(xs[k + 1])
            if c(a) * c(b) > 0:  # a least-squares fit (more points than degree + 1) may miss the bracket
                return lin
            for _ in range(100):  # bisection: robust where the fit's leading coefficients vanish (straight lines)
                m = 0.5 * (a + b)
                if c(a) * c(m) <= 0:
                    b = m
                else:
                    a = m
            return 0.5 * (a + b)
    return None


def extrapolate_crossings(points):
    """Finite-size extrapolation of pairwise crossings ``(n_mean, D_cross)`` to ``1/n -> 0``.

    Fits in ``x = 1 / n_mean``: a line through all crossings, a line through the three largest
    sizes, a parabola through all (at least three crossings), and ``D_c + a x^w`` with the
    exponent w free in [0.5, 3] (at least four).  The estimate is
    the parabola when it exists (the crossings drift with curvature in 1/n), else the line;
    the uncertainty is the largest distance from the estimate to the other fits' intercepts
    (a systematic spread, not a statistical error).  Returns a dict or None (< 2 points)."""
    pts = sorted((1.0 / float(n), float(d)) for n, d in points if d is not None)
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    power_exponent = None
    fits = {"linear_all": float(np.polyfit(x, y, 1)[1])}
    if len(pts) >= 3:
        fits["linear_largest3"] = float(np.polyfit(x[:3], y[:3], 1)[1])
        fits["quadratic_all"] = float(np.polyfit(x, y, 2)[2])
    if len(pts) >= 4:  # D_cross = D_c + a n^-w, w free (scanned; linear least squares at each w)
        best = None
        for w in np.linspace(0.5, 3.0, 251):
            A = np.stack([np.ones_like(x), x ** w], axis=1)
            coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
            r = float(np.sum((A @ coef - y) ** 2))
            if best is None or r < best[0]:
                best = (r, float(coef[0]), float(w))
        fits["power_law"] = best[1]
        power_exponent = best[2]
    est = fits.get("quadratic_all", fits["linear_all"])
    spread = max([abs(v - est) for v in fits.values()] + [0.0])
    return {"D_c": est, "uncertainty": spread, "fits": fits, "points": len(pts), "power_exponent": power_exponent,
            "crossings": [(float(1 / a), float(b)) for a, b in pts]}


_NO_TT = {"tt_fidelity": None, "tt_spt_order": None, "tt_bond": None, "tt_pivot_error": None,
          "tt_validation_error": None, "tt_draws": 0, "tt_network_fidelity_estimate": None, "time_rss_s": 0.0}


def _tensorize_point(psi, n, D, block, n_samples, rss_rank, seed, retries, edge_rows, f=None):
    """TT-RSS of one DMRG state (rank = its bond unless given), pivots from |psi|^2 plus edge
    completions; the draw is checked on fresh samples and replaced when its relative error
    there exceeds 0.2 (at most ``retries`` times, keeping the best).  ``f``: the black box
    tensorized instead of the state's amplitudes (a normalized network trained on it); its
    train is checked instead by their Monte Carlo fidelity, redrawn below 0.9."""
    from tnfast import phases as P

    t0 = time.perf_counter()
    rank = rss_rank or max(psi.bond_dims)
    best = None
    for attempt in range(1 + retries):
        tt, rinfo, _ = tensorize_state(psi, n_samples, rank, seed=seed + int(round(1000 * D)) + 7919 * attempt,
                                       edge_sites=_edge_sites(rank, n), edge_rows=edge_rows, f=f)
        xv = P.sample(psi, n_samples, seed=seed + 1 + int(round(1000 * D)) + 7919 * attempt)
        yv = psi.evaluate(xv)
        tv = tt.evaluate(xv)  # up to the global sign (a network's sign is the Marshall sign's)
        val_err = float(min(np.linalg.norm(tv - yv), np.linalg.norm(tv + yv)) / np.linalg.norm(yv))
        fid_est = None
        if f is not None:  # a normalized network: Monte Carlo fidelity over the train's own samples
            from .phases_network import autoregressive_fidelity

            fid_est = autoregressive_fidelity(f, tt, n_eval=VALIDATION_SAMPLES, seed=seed + 5 + attempt)[0]
            score = 1.0 - fid_est  # the error samples cannot show: weight the train puts where they never go
        else:
            score = val_err
        if best is None or score < best[2]:
            best = (tt, rinfo, score, attempt, val_err, fid_est)
        if score < (0.1 if f is not None else 0.2):
            break
    tt, rinfo, _, attempt, val_err, fid_est = best
    try:
        tt_order = P.spt_order(tt, block=block)
    except ValueError:
        tt_order = float("nan")
    return {"tt_fidelity": P.fidelity(tt, psi), "tt_spt_order": tt_order, "tt_bond": max(rinfo.bond_dims or (1,)),
            "tt_pivot_error": rinfo.pivot_error, "tt_validation_error": val_err, "tt_draws": attempt + 1,
            "tt_network_fidelity_estimate": fid_est, "time_rss_s": time.perf_counter() - t0}


VALIDATION_SAMPLES = 4000



def run_diagram(sizes=(16, 24, 32), Ds=None, bond_dim=32, sweeps=8, n_samples=200, rss_rank=None, seed=0,
                retries=2, edge_rows=4, tensorize_sizes=None, progress=True, source="dmrg", network_options=None,
                order_samples=0):
    """DMRG ground states on a grid of (n, D), their SPT order, and that of a tensorized black box:
    the state's own amplitudes (``source="dmrg"``) or an ``ar-marshall`` network trained on
    samples of the state (``source="network"``, options of
    :func:`tnfast.experiments.phases_network.train_on_state`).  Crossings of the order curves
    of consecutive sizes, extrapolated in 1/n, for both.  ``order_samples`` (network source):
    also the network's own order before tensorization, by Monte Carlo over that many of its
    samples (:func:`tnfast.phases.spt_order_sampled`), which separates the network's error from
    the tensorization's.  ``rss_rank``: the TT-RSS rank (default the DMRG bond)."""
    from tnfast import dmrg
    from tnfast import phases as P

    Ds = np.round(np.arange(0.5, 1.51, 0.1), 4) if Ds is None else np.asarray(Ds, dtype=float)
    per_n = {}
    for n in sizes:
        block = max(2, 2 * (n // 8))  # even: the rotations' on-site phases cancel
        init = None
        pts = []
        for D in _bar(Ds, f"diagram n={n}", progress):
            t0 = time.perf_counter()
            e, psi, info = dmrg(P.spin1_chain(n, D=float(D)), bond_dim=bond_dim, sweeps=sweeps, init=init,
                                seed=seed, return_info=True)
            t_dmrg = time.perf_counter() - t0
            init = psi
            order = P.spt_order(psi, block=block)
            string = P.string_order(psi, n // 4, 3 * n // 4)
            f, net_point = None, {}
            if source == "network" and (tensorize_sizes is None or n in tensorize_sizes):
                from tnfast.experiments.phases_network import train_on_state

                f, net_point = train_on_state(psi, seed=seed + int(round(1000 * D)), **(network_options or {}))
                if order_samples:  # the network's own order, before tensorization (Monte Carlo)
                    xo = f.net.sample(int(order_samples), seed=seed + int(round(1000 * D)) + 98).numpy()
                    v, se = P.spt_order_sampled(lambda c: f(c.astype(np.float64)), xo, block=block)
                    net_point.update(network_order_sampled=v, network_order_sampled_se=se)
            tt_point = _tensorize_point(psi, n, D, block, n_samples, rss_rank, seed,
                                        retries, edge_rows, f=f) \
                if tensorize_sizes is None or n in tensorize_sizes else _NO_TT
            pts.append({"D": float(D), "energy": e, "sweeps": info.sweeps, "dmrg_bond": max(psi.bond_dims),
                        "discarded": info.discarded[-1], "spt_order": order, "string_order": string,
                        "time_dmrg_s": t_dmrg, **tt_point, **net_point})
            if not progress:
                tt = (f"{tt_point['tt_spt_order']:+.4f} (tensorized, fidelity {tt_point['tt_fidelity']:.4f}, validation "
                      f"error {tt_point['tt_validation_error']:.3f}, {tt_point['tt_draws']} draw(s)); "
                      f"{tt_point['time_rss_s']:.0f} s TT-RSS") if tt_point["tt_fidelity"] is not None else "(not tensorized)"
                nf = (f"; network fidelity {net_point['network_fidelity']:.4f} +- {net_point['network_fidelity_se']:.4f}"
                      f", trained in {net_point['time_train_s']:.0f} s") if net_point else ""
                print(f"  n={n} D={float(D):.3f}: order {order:+.4f} (DMRG) {tt}; {t_dmrg:.0f} s DMRG{nf}", flush=True)
        xs = [p["D"] for p in pts]
        per_n[n] = {"block": block, "points": pts,
                    "D_zero_dmrg": _zero_crossing(xs, [p["spt_order"] for p in pts]),
                    "D_zero_tt": _zero_crossing(xs, [p["tt_spt_order"] for p in pts])
                    if all(p["tt_spt_order"] is not None for p in pts) else None}
    crossings, extrapolated = diagram_crossings(per_n)
    return {"per_n": {str(k): v for k, v in per_n.items()}, "crossings": crossings, "extrapolated": extrapolated,
            "D_c_reference": D_C, "source": source, "network_options": dict(network_options or {}),
            "bond_dim": bond_dim, "n_samples": n_samples, "rss_rank": rss_rank}


# curves whose crossings are located: the DMRG state's order, the tensor train's, and (network source with
# ``order_samples``) the network's own order by Monte Carlo, before tensorization
CROSSING_KEYS = ("spt_order", "tt_spt_order", "network_order_sampled")


def diagram_crossings(per_n):
    """Crossings of the order curves of consecutive sizes (DMRG and tensorized) on their common
    D grid, and their extrapolation in 1/n (:func:`crossing`, :func:`extrapolate_crossings`)."""
    ns = sorted(int(k) for k in per_n)
    per_n = {int(k): v for k, v in per_n.items()}
    crossings = []
    for a, b in zip(ns[:-1], ns[1:]):
        pa = {round(p["D"], 9): p for p in per_n[a]["points"]}
        pb = {round(p["D"], 9): p for p in per_n[b]["points"]}
        xs = sorted(set(pa) & set(pb))
        for key in CROSSING_KEYS:
            ya, yb = [pa[x].get(key) for x in xs], [pb[x].get(key) for x in xs]
            if key == "network_order_sampled" and all(v is None for v in ya + yb):
                continue  # not measured in these runs
            dc = crossing(xs, ya, yb) if None not in ya + yb and len(xs) >= 2 else None
            crossings.append({"sizes": [a, b], "from": key, "D_cross": dc})
    extrapolated = {}
    for key in CROSSING_KEYS:
        ex = extrapolate_crossings([(0.5 * sum(c["sizes"]), c["D_cross"]) for c in crossings if c["from"] == key])
        if ex is not None:
            extrapolated[key] = ex
    return crossings, extrapolated


def merge_diagrams(paths):
    """One diagram from the ``results.json`` of runs at different sizes (same D grid and
    options, e.g. one size per run): the points of every size, then crossings and
    extrapolation recomputed."""
    per_n, first = {}, None
    for path in paths:
        dg = json.loads(pathlib.Path(path).read_text())["diagram"]
        first = first or dg
        per_n.update(dg["per_n"])
    crossings, extrapolated = diagram_crossings(per_n)
    merged = {k: v for k, v in first.items() if k not in ("per_n", "crossings", "extrapolated", "time_s")}
    merged.update(per_n={str(k): per_n[k] for k in sorted(per_n, key=int)}, crossings=crossings,
                  extrapolated=extrapolated, merged_from=[str(p) for p in paths])
    return merged


# ---- plots and command ---------------------------------------------------------------------
def _plots(out, results):
    from ._ui import pyplot

    plt = pyplot(f"no figure is drawn in {out}")
    if plt is None:
        return []
    files = []
    if "aklt" in results:
        tab = results["aklt"]["table"]
        sizes = sorted({t["n"] for t in tab})
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for n in sizes:
            r = [t for t in tab if t["n"] == n]
            axes[0].plot([t["N"] for t in r], [t["fidelity_mean"] for t in r], marker="o", label=f"n={n} mean")
            axes[0].plot([t["N"] for t in r], [t["fidelity_min"] for t in r], ls=":", marker=".", label=f"n={n} min")
            axes[1].plot([t["N"] for t in r], [t["spt_order_median"] for t in r], marker="o", label=f"n={n}")
        axes[0].set_xlabel("samples N")
        axes[0].set_ylabel("fidelity with the AKLT state")
        axes[1].set_xlabel("samples N")
        axes[1].set_ylabel("Z2xZ2 SPT order, median (blocks of 10)")
        axes[1].axhline(-1, color="k", lw=0.5)
        axes[1].set_ylim(-1.2, 1.2)  # a failed draw can give any ratio; the median is shown
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle("AKLT tensorized as a black box (TT-RSS, d=3, rank 2)")
        fig.tight_layout()
        p = out / "aklt.png"
        fig.savefig(p, dpi=120)
        plt.close(fig)
        files.append(str(p))
    if "diagram" in results:
        dg = results["diagram"]
        fig, ax = plt.subplots(figsize=(6, 4))
        for n, v in dg["per_n"].items():
            xs = [p["D"] for p in v["points"]]
            line, = ax.plot(xs, [p["spt_order"] for p in v["points"]], marker="o", label=f"DMRG n={n} (L={v['block']})")
            ax.plot(xs, [np.nan if p["tt_spt_order"] is None else p["tt_spt_order"] for p in v["points"]], ls="none", marker="x", ms=9, color=line.get_color(),
                    label=f"tensorized {'network' if dg.get('source') == 'network' else 'state'} n={n}")
            own = [p.get("network_order_sampled") for p in v["points"]]
            if any(o is not None for o in own):
                ax.errorbar(xs, [np.nan if o is None else o for o in own],
                            yerr=[p.get("network_order_sampled_se") or 0.0 for p in v["points"]], ls="none",
                            marker="^", mfc="none", color=line.get_color(), label=f"network alone (samples) n={n}")
        ax.axvline(dg["D_c_reference"], color="k", ls="--", lw=0.8, label=f"D_c = {dg['D_c_reference']}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("D")
        ax.set_ylabel("Z2xZ2 SPT order")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_title("spin-1 chain with anisotropy D")
        fig.tight_layout()
        p = out / "diagram.png"
        fig.savefig(p, dpi=120)
        plt.close(fig)
        files.append(str(p))
    if "network" in results and results["network"]["rows"]:
        rows = results["network"]["rows"]
        states = list(dict.fromkeys(r["state"] for r in rows))
        kinds = list(dict.fromkeys(r["network"] for r in rows))
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        w = 0.8 / len(kinds)
        for j, kind in enumerate(kinds):
            by = {r["state"]: r for r in rows if r["network"] == kind}
            xs = np.arange(len(states)) + j * w
            axes[0].bar(xs, [by[s]["tt_fidelity"] if s in by else np.nan for s in states], w, label=kind)
            axes[1].bar(xs, [by[s]["tt_spt_order"] if s in by else np.nan for s in states], w, label=kind)
        for k, s in enumerate(states):
            ex = [r["exact_order"] for r in rows if r["state"] == s][0]
            axes[1].plot([k - 0.1, k + 0.9], [ex, ex], color="k", lw=1.5)
        for ax, lab in zip(axes, ("fidelity of the tensorized network", "SPT order (black: exact state)")):
            ax.set_xticks(np.arange(len(states)) + 0.4 - w / 2)
            ax.set_xticklabels(states, fontsize=8)
            ax.set_ylabel(lab)
            ax.grid(alpha=0.3, axis="y")
        axes[0].legend(fontsize=7)
        fig.suptitle("networks trained on a state, tensorized by TT-RSS")
        fig.tight_layout()
        p = out / "network.png"
        fig.savefig(p, dpi=120)
        plt.close(fig)
        files.append(str(p))
    return files


def _print_diagram(dg):
    print(f"Phase diagram (DMRG order / tensorized {'network' if dg.get('source') == 'network' else 'state'} order, "
          "fidelity with the DMRG state):")
    for n, v in dg["per_n"].items():
        for p in v["points"]:
            tt = (f"{p['tt_spt_order']:+.4f}" if p["tt_spt_order"] is not None else "   -   ")
            fid = (f"{p['tt_fidelity']:.6f}" if p["tt_fidelity"] is not None else "-")
            alone = (f"  network alone {p['network_order_sampled']:+.4f} +- {p['network_order_sampled_se']:.4f}"
                     if p.get("network_order_sampled") is not None else "")
            print(f"  n={n:>3} D={p['D']:.3f}  order {p['spt_order']:+.4f} / {tt}"
                  f"  string {p['string_order']:+.4f}  fidelity {fid}{alone}", flush=True)
        print(f"  n={n}: order = 0 at D = {v['D_zero_dmrg']} (DMRG), {v['D_zero_tt']} (tensorized)")
    for c in dg["crossings"]:
        print(f"  crossing of n={c['sizes'][0]} and n={c['sizes'][1]} ({c['from']}): D = {c['D_cross']}")
    for key, v in dg["extrapolated"].items():
        print(f"  {key}: crossings extrapolated in 1/n to D_c = {v['D_c']:.4f} +- {v['uncertainty']:.4f} "
              f"(fits {', '.join(f'{k} {x:.4f}' for k, x in v['fits'].items())}; reference {D_C}; "
              f"{v['points']} crossings)")


def run(aklt=True, diagram=False, out="results/phases", aklt_sizes=(100, 200, 500),
        aklt_samples=(2, 4, 6, 8, 10, 12, 14, 16, 20), seeds=5, sizes=(16, 24, 32), Ds=None, bond_dim=32,
        sweeps=8, n_samples=200, blas_threads=1, progress=True, tensorize_sizes=None, edge_rows=4, network=False,
        network_options=None, source="dmrg", diagram_network_options=None, rss_rank=None, order_samples=0,
        merge=None):
    """Run the selected parts; returns the results dict (also in ``out/results.json``).
    ``merge``: instead, the ``results.json`` files of diagram runs at different sizes, merged
    into one diagram (:func:`merge_diagrams`)."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"meta": {"blas_threads": blas_threads}}
    if merge:
        results["diagram"] = merge_diagrams(merge)
        _print_diagram(results["diagram"])
        aklt = diagram = network = False
    with _blas_limit(blas_threads):
        if aklt:
            t0 = time.perf_counter()
            results["aklt"] = run_aklt(aklt_sizes, aklt_samples, seeds=seeds, progress=progress)
            results["aklt"]["time_s"] = time.perf_counter() - t0
            print("AKLT (TT-RSS, d=3, rank 2, blocks of 10): n, N, mean / min fidelity over seeds, median order")
            for t in results["aklt"]["table"]:
                print(f"  n={t['n']:4d} N={t['N']:3d}  fidelity {t['fidelity_mean']:.4f} / {t['fidelity_min']:.4f}"
                      f"  order {t['spt_order_median']:+.4f} (< -0.99 in {100 * t['frac_order_lt_-0.99']:.0f} %)", flush=True)
            print(f"  first N with fidelity >= 0.99 for every seed: {results['aklt']['first_N_all_seeds_fidelity_0.99']}")
        if diagram:
            t0 = time.perf_counter()
            if source == "network":
                import torch

                torch.set_num_threads(int(blas_threads))
            results["diagram"] = run_diagram(sizes, Ds, bond_dim=bond_dim, sweeps=sweeps, n_samples=n_samples,
                                             edge_rows=edge_rows, tensorize_sizes=tensorize_sizes, progress=progress,
                                             source=source, network_options=diagram_network_options,
                                             rss_rank=rss_rank, order_samples=order_samples)
            results["diagram"]["time_s"] = time.perf_counter() - t0
            _print_diagram(results["diagram"])
        if network:
            from tnfast.experiments.phases_network import run_network

            t0 = time.perf_counter()
            print("Networks trained on states, tensorized by TT-RSS:", flush=True)
            results["network"] = run_network(progress=progress, threads=blas_threads, **(network_options or {}))
            results["network"]["time_s"] = time.perf_counter() - t0
            print("  state, network: network fidelity, tensorized fidelity, SPT order tensorized / exact")
            for r in results["network"]["rows"]:
                nf = "-" if r["network_fidelity"] is None else f"{r['network_fidelity']:.4f}"
                print(f"  {r['state']:18s} {r['network']:18s} {nf:>7s}  {r['tt_fidelity']:.4f}  "
                      f"{r['tt_spt_order']:+.4f} / {r['exact_order']:+.4f}")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    files = _plots(out, results)
    print(f"wrote {', '.join([str(out / 'results.json')] + files)}")
    return results


def _floats(s):
    return [float(v) for v in s.split(",") if v]


def _ints(s):
    return [int(v) for v in s.split(",") if v]


def _cmd(args):
    if not (args.aklt or args.diagram or args.network or args.merge):
        args.aklt = True
    net_opts = {"n": args.network_n, "states": [v for v in args.network_states.split(",") if v],
                "variants": [v for v in args.network_variants.split(",") if v], "train_samples": args.train_samples,
                "epochs": args.epochs, "hidden": args.hidden, "n_pivots": args.network_pivots,
                "block": args.network_block or None}
    Ds = _floats(args.D) if args.D else None
    run(aklt=args.aklt, diagram=args.diagram, out=args.out, aklt_sizes=_ints(args.aklt_sizes),
        aklt_samples=_ints(args.aklt_samples), seeds=args.seeds, sizes=_ints(args.sizes), Ds=Ds,
        bond_dim=args.bond_dim, sweeps=args.sweeps, n_samples=args.samples, blas_threads=args.blas_threads,
        progress=not args.no_progress, tensorize_sizes=_ints(args.tensorize_sizes) if args.tensorize_sizes else None,
        edge_rows=args.edge_rows, network=args.network, network_options=net_opts, source=args.source,
        diagram_network_options={"train_samples": args.train_samples, "epochs": args.epochs, "hidden": args.hidden,
                                 "magnetization": {"none": None, "auto": "auto"}.get(args.magnetization.lower())
                                 if args.magnetization.lower() in ("none", "auto") else float(args.magnetization), "fresh_samples": args.fresh_samples,
                                 "amplitudes": args.amplitude_loss, "batch": args.batch},
        rss_rank=args.rss_rank or None, order_samples=args.order_samples,
        merge=[v for v in args.merge.split(",") if v] if args.merge else None)
    return 0


def register_repro(sub):
    p = sub.add_parser("phases", help="SPT phases from tensorized black boxes: AKLT, spin-1 chain with anisotropy D")
    p.add_argument("--aklt", action="store_true", help="tensorize the AKLT state (default when nothing is chosen)")
    p.add_argument("--diagram", action="store_true", help="Haldane / large-D transition from DMRG and tensorized states")
    p.add_argument("--network", action="store_true", help="networks trained on the AKLT and DMRG states, tensorized")
    p.add_argument("--out", default="results/phases")
    p.add_argument("--aklt-sizes", default="100,200,500", help="chain lengths, comma separated")
    p.add_argument("--aklt-samples", default="2,4,6,8,10,12,14,16,20", help="numbers of pivots N")
    p.add_argument("--seeds", type=int, default=5, help="repetitions per (n, N)")
    p.add_argument("--sizes", default="16,24,32", help="diagram chain lengths")
    p.add_argument("--D", default="", help="diagram D values, comma separated (default 0.5..1.5 step 0.1)")
    p.add_argument("--bond-dim", type=int, default=32, help="DMRG bond dimension")
    p.add_argument("--sweeps", type=int, default=8, help="DMRG sweeps (at most)")
    p.add_argument("--samples", type=int, default=200, help="TT-RSS pivots per diagram state")
    p.add_argument("--tensorize-sizes", default="", help="diagram lengths at which the states are also tensorized "
                   "(default: all; DMRG alone elsewhere, for the finite-size extrapolation)")
    p.add_argument("--edge-rows", type=int, default=4, help="samples completed with every configuration of the "
                   "first and last sites as extra pivots (0: samples only)")
    p.add_argument("--source", choices=("dmrg", "network"), default="dmrg",
                   help="--diagram: tensorize the DMRG state itself or an ar-marshall network trained on its samples "
                   "(--train-samples, --epochs, --hidden)")
    p.add_argument("--network-n", type=int, default=16, help="chain length of the network part")
    p.add_argument("--network-states", default="aklt,D=0,D=1.5", help="aklt and/or D=<value> (DMRG ground states)")
    p.add_argument("--network-variants", default="mlp-amplitudes,ar-positive,ar-marshall",
                   help="networks: ar-marshall, ar-positive, mlp-amplitudes (see tnfast.experiments.phases_network)")
    p.add_argument("--network-block", type=int, default=0, help="SPT block length (default 2 floor(n / 8))")
    p.add_argument("--train-samples", type=int, default=20000, help="samples of |psi|^2 the networks learn from")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--hidden", type=int, default=48, help="GRU width")
    p.add_argument("--magnetization", default="auto", help="--diagram --source network: the total S^z built into "
                   "the network (masked conditionals), 'auto' (that of the state's samples when they share one) or "
                   "'none'")
    p.add_argument("--fresh-samples", action="store_true", help="--diagram --source network: new samples every epoch")
    p.add_argument("--amplitude-loss", action="store_true", help="--diagram --source network: the loss adds the "
                   "squared error of the log-probabilities against the state's at the samples")
    p.add_argument("--batch", type=int, default=64, help="--diagram --source network: minibatch size")
    p.add_argument("--network-pivots", type=int, default=200, help="TT-RSS pivots for the networks")
    p.add_argument("--rss-rank", type=int, default=0, help="--diagram: TT-RSS rank (0: the DMRG bond)")
    p.add_argument("--order-samples", type=int, default=0, help="--diagram --source network: also the network's "
                   "own SPT order before tensorization, by Monte Carlo over this many of its samples (0: not)")
    p.add_argument("--merge", default="", help="results.json files of --diagram runs at different sizes, comma "
                   "separated: merged into one diagram (crossings and extrapolation recomputed) in --out")
    p.add_argument("--blas-threads", type=int, default=1)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd)
