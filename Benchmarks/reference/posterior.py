#!/usr/bin/env python3
"""Dense NumPy reference of Snuffel's source-localisation posterior, timed by scripts/bench.

Usage: posterior.py DIR [--timed-looks N] [--results FILE]

Reads what `snuffel-bench posterior` wrote to DIR (posterior.json, posterior_big.f64,
posterior_small.f64, posterior_small_swift.f64) and computes the same model as
`SourceEstimator.posterior`, densely: every cell against every look, vectorised over all
cells and a block of looks at a time, with no pruning and no tables:

  - a Gaussian plume from each cell: Briggs open-country sigma_y (class C) and sigma_z
    (class D) plus the extra vertical spread, reflected at the ground, concentration per
    unit strength c = exp(-y^2 / 2 sy^2 - h^2 / 2 sz^2) / (pi u sy sz) at each height h
    above the source, zero upwind (x <= 0.5 m) and beyond the model's maximum range;
  - a look is a hit with p = eps + (1 - eps - delta)(1 - exp(-S c)), weighted log
    likelihood relative to a look far from any plume, summed over the looks;
  - strengths and heights marginalised exactly (sum of exp over all pairs, each strength
    weighted by its prior, density proportional to S^-k), normalised.

Snuffel prunes each look to its upwind cone (4 sigma_y crosswind) and interpolates the
likelihood in a table; the small case (48x48 cells, 1500 looks) measures what that costs:
the maximum absolute difference of the two normalised maps.

The large case (256x256 cells, 10^5 looks) would take the dense reference about an hour,
and its cost is exactly linear in the number of looks (each block of looks adds the same
work over all cells), so it is timed on the first N looks (default 400) and scaled to all
of them; the scaled time is what the ratio uses.

Runs on one core: set OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 (scripts/bench does).
"""

import argparse
import json
import os
import time

import numpy as np


def sigma_y(x):
    return np.maximum(1.0, 0.11 * x / np.sqrt(1 + 0.0001 * x))


def sigma_z(x):
    return np.maximum(0.5, 0.06 * x / np.sqrt(1 + 0.0015 * x))


def log_likelihood(cfg, grid, bounds, looks, block=64):
    """Sum over the looks of the weighted log-likelihood increments: (cells, heights*strengths)."""
    side = max(bounds["max_east"] - bounds["min_east"], bounds["max_north"] - bounds["min_north"], 1.0)
    cell = side / grid
    centres = (np.arange(grid) + 0.5) * cell
    se = np.tile(bounds["min_east"] + centres, grid)      # row-major, row 0 south
    sn = np.repeat(bounds["min_north"] + centres, grid)
    we, wn = cfg["wind_east"], cfg["wind_north"]
    speed = np.hypot(we, wn)
    ux, uy = we / speed, wn / speed
    u = max(0.5, speed)
    eps, delta, w = cfg["false_hit"], cfg["miss"], cfg["weight"]
    span = 1 - eps - delta
    heights = np.array(cfg["heights"], dtype=float)
    log_s = np.log(np.array(cfg["strengths"], dtype=float))
    extra2 = cfg["extra_vertical_spread"] ** 2
    rng = cfg["maximum_range"]
    out = np.zeros((grid * grid, heights.size * log_s.size))
    for start in range(0, len(looks), block):
        part = looks[start:start + block]
        dx = part[None, :, 0] - se[:, None]
        dy = part[None, :, 1] - sn[:, None]
        hit = part[None, :, 2] > 0.5
        x = dx * ux + dy * uy
        y = -dx * uy + dy * ux
        inside = (x > 0.5) & (x < rng)
        xs = np.where(inside, x, 1.0)
        sy = sigma_y(xs)
        sz2 = sigma_z(xs) ** 2 + extra2
        log_base = -0.5 * y * y / (sy * sy) - np.log(np.pi * u * sy * np.sqrt(sz2))
        k = 0
        for h in heights:
            log_c = log_base - 0.5 * h * h / sz2
            for ls in log_s:
                sc = np.exp(log_c + ls)
                p = eps + span * -np.expm1(-sc)
                inc = np.where(hit, np.log(p / eps), np.log1p(-p) - np.log1p(-eps))
                out[:, k] += w * np.where(inside, inc, 0.0).sum(axis=1)
                k += 1
    return out


def posterior(cfg, case, looks):
    ll = log_likelihood(cfg, case["grid"], case["bounds"], looks)
    # The strengths' prior: density proportional to S^-k, on log-spaced strengths a
    # weight S^(1 - k) each (the same for every height).
    strengths = np.array(cfg["strengths"], dtype=float)
    prior = np.tile(strengths ** (1.0 - cfg.get("strength_prior_exponent", 1.0)), len(cfg["heights"]))
    m = (np.exp(ll - ll.max()) * prior[None, :]).sum(axis=1)
    return m / m.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--timed-looks", type=int, default=400)
    ap.add_argument("--results")
    a = ap.parse_args()
    results = a.results or os.path.join(a.dir, "results.txt")
    with open(os.path.join(a.dir, "posterior.json")) as f:
        cfg = json.load(f)
    small = np.fromfile(os.path.join(a.dir, "posterior_small.f64"), dtype="<f8").reshape(-1, 3)
    big = np.fromfile(os.path.join(a.dir, "posterior_big.f64"), dtype="<f8").reshape(-1, 3)
    ours = np.fromfile(os.path.join(a.dir, "posterior_small_swift.f64"), dtype="<f8")

    ref = posterior(cfg, cfg["small"], small)
    diff = np.abs(ref - ours).max()
    g = cfg["small"]["grid"]
    print(f"NumPy posterior, small case ({g}x{g}, {len(small)} looks): max |Snuffel - NumPy| of the normalised maps "
          f"{diff:.2e} (peak {ref.max():.2e}; peak cells NumPy {int(ref.argmax())}, Snuffel {int(ours.argmax())})")

    n = min(a.timed_looks, len(big))
    t0 = time.perf_counter()
    log_likelihood(cfg, cfg["big"]["grid"], cfg["big"]["bounds"], big[:n])
    t1 = time.perf_counter()
    scaled = (t1 - t0) * len(big) / n
    g = cfg["big"]["grid"]
    print(f"NumPy posterior, dense: {g}x{g} grid, {n} looks in {t1 - t0:.2f} s, scaled to {len(big)} looks: {scaled:.0f} s")
    with open(results, "a") as f:
        f.write(f"numpy_posterior_scaled_s {scaled}\n")
        f.write(f"numpy_posterior_timed_looks {n}\n")
        f.write(f"posterior_small_maxdiff {diff}\n")
        f.write(f"posterior_small_peak {ref.max()}\n")
        f.write(f"posterior_small_samepeak {1 if int(ref.argmax()) == int(ours.argmax()) else 0}\n")


if __name__ == "__main__":
    main()
