#!/usr/bin/env python3
"""NumPy/SciPy reference of Snuffel's streaming pipeline, timed by scripts/bench.

Usage: pipeline.py DIR [--runs N] [--results FILE]

Reads what `snuffel-bench prepare` wrote to DIR: streamC.f64 (little-endian float64
triples: channel index, time in µs, raw value; one per sample, interleaved in time
order), channelsC.json (channels and detection settings) for C = 8 and 16, and
excess16.f64 (Snuffel's smoothed excess after each sample of stream16, for the sanity
check). Prints the throughput table and appends `key value` lines to the results file.

The same stages as Snuffel's `Pipeline.process`, vectorised over time per channel:

  de-interleave   a stable (radix) argsort by channel and one gather (Snuffel takes the
                  samples as they come; the time this takes is printed separately)
  validation      finite, in the channel's range, positive for MOX resistance, later
                  than the previous sample
  conversion      per kind: SRAW ticks, log of resistance ratio, linear
  compensation    temperature and absolute humidity (Magnus formula on the temperature
                  and humidity channels), each held from its last sample before the
                  gas sample (np.searchsorted)
  baseline        the same level-and-trend (alpha-beta) tracker with the Benedict-Bordner
                  beta, run as a second-order scipy.signal.lfilter on the physical value
  spike filter    median of the last three excess values (np.minimum / np.maximum)
  low-pass        one-pole scipy.signal.lfilter with Snuffel's smoothing time constant
  recovery        smooth + tau * d(smooth)/dt, tau the rise or the decay constant by the
                  sign of the slope
  noise           running variances of the recovered and the smoothed excess, one-pole
                  lfilter of their squares, started from the warm-up mean
  hits            on/off thresholds in sigma of each, minimum duration and release by
                  run lengths, hysteresis by a running maximum over on/off edges
  history         each channel's last ring-capacity inlet times, excess and recovered
                  values copied into a preallocated ring
  fusion          hit onsets of all channels in inlet time, grouped within the
                  coincidence window, events where enough channels agree

Simplifications, each no more work than what Snuffel does per sample (so they can only
flatter the reference):

  - Uniform sampling per channel: filter coefficients come from the mean step; Snuffel
    computes them from each sample's own time step.
  - The baseline is the alpha-beta tracker on the physical value, linear: no hold while a
    channel is elevated or in an event, no faster time constant for drops, no catch-up
    after a long freeze, no least-squares start after warm-up (it starts flat at the
    first value; the warm-up uses the same time constant).
  - The noise variances are learnt on every sample (Snuffel gates out outliers), with
    one time constant.
  - The validation compares each time with the previous sample's, accepted or not.
  - Fusion is done once over the whole stream from the hit onsets; Snuffel's event
    closing, evidence windows and NNLS classification are not done (no events in the
    quiet streams; Snuffel would classify them).
  - The Sensirion gas index of the SGP41 channels is not computed at all (Snuffel runs it
    at 1 Hz on those channels: 2 of 8 and 4 of 16 channels).

Runs on one core: set OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 (scripts/bench does).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
from scipy.signal import lfilter, lfilter_zi

KINDS_GAS = {"sraw_voc", "sraw_nox", "mox_resistance", "pid", "electrochemical"}
KINDS_MOX = {"sraw_voc", "sraw_nox", "mox_resistance"}


def pole_alpha(x):
    """1 - exp(-x): the one-pole coefficient for a step of x time constants."""
    return -np.expm1(-x)


def lane_constants(c, d):
    """The time constants Snuffel's Lane derives from a channel and the settings."""
    speedup = d["recovery_speedup"]
    recovering = c["rise_tau_s"] > 0 and speedup > 1
    smoothing = max(d["smoothing_tau_s"], c["rise_tau_s"] / speedup if recovering else 0)
    cap = speedup * smoothing
    decay = c["decay_tau_s"] if c["decay_tau_s"] > 0 else c["rise_tau_s"]
    return {
        "smooth_tau": smoothing,
        "rise_tau": min(c["rise_tau_s"], cap) if recovering else 0.0,
        "decay_tau": min(decay, cap) if recovering else 0.0,
        "noise_floor2": c["noise_floor"] ** 2,
    }


def convert(kind, c, raw):
    if kind == "sraw_voc":
        return (c["offset"] - raw) * c["gain"]
    if kind == "mox_resistance":
        return np.log(c["offset"] / raw)
    return (raw - c["offset"]) * c["gain"]


def validate(c, t, raw):
    ok = np.isfinite(raw) & (raw >= c["valid_min"]) & (raw <= c["valid_max"])
    if c["kind"] == "mox_resistance":
        ok &= raw > 0
    ok[1:] &= t[1:] > t[:-1]
    return ok


def held_index(times, at):
    """Index of the last time at or before each time of `at` (-1 before the first)."""
    return np.searchsorted(times, at, side="right") - 1


def held(values, i):
    """The values at `held_index` indices, NaN where there is none yet."""
    out = values[np.maximum(i, 0)]
    out[i < 0] = np.nan
    return out


def median3(e):
    """Median of each value and the two before it (the first two pass through)."""
    out = e.copy()
    a, b, c = e[:-2], e[1:-1], e[2:]
    out[2:] = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    return out


def run_lengths_at_least(mask, n):
    """Indices at which a run of True in `mask` reaches length n."""
    if n <= 1:
        edges = np.flatnonzero(np.diff(np.concatenate(([False], mask)).astype(np.int8)) == 1)
        return edges
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(padded)
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    long = (ends - starts) >= n
    return starts[long] + n - 1


def hysteresis(on_at, off_at, n):
    """In-hit mask: set at an `on` index, cleared at an `off` index (on wins a tie)."""
    state = np.zeros(n, dtype=np.int8)  # 0 nothing, 1 on, -1 off
    state[off_at] = -1
    state[on_at] = 1
    idx = np.where(state != 0, np.arange(n), 0)
    last = np.maximum.accumulate(idx)
    return state[last] == 1


def process_gas(c, d, t, raw, env, ring):
    k = lane_constants(c, d)
    ok = validate(c, t, raw)
    t = t[ok]
    raw = raw[ok]
    n = t.size
    if n < 3:
        return None, np.empty(0)
    dt = (t[-1] - t[0]) * 1e-6 / (n - 1)
    y = convert(c["kind"], c, raw)
    # Compensation with the environment held at each sample's time.
    i = held_index(env["t"], t)
    temp = held(env["temp"], i)
    ah = held(env["ah"], i)
    y = y - np.where(np.isfinite(temp), c["temp_coeff"] * (temp - c["ref_temp_c"]), 0.0)
    y = y - np.where(np.isfinite(ah), c["humidity_coeff"] * (ah - c["ref_abs_humidity"]), 0.0)

    # Baseline: alpha-beta tracker (level and trend), critically damped.
    a = pole_alpha(dt / d["baseline_tau_s"])
    beta = a * a / (2 - a)
    b_coef = np.array([a, beta - a])
    a_coef = np.array([1.0, a + beta - 2.0, 1.0 - a])
    # Start at the first value with no trend: level[-1] = level[-2] = y0.
    level, _ = lfilter(b_coef, a_coef, y, zi=lfilter_zi(b_coef, a_coef) * y[0])

    # Spike filter, low-pass and recovery.
    e = median3(y - level)
    k_s = pole_alpha(dt / k["smooth_tau"]) if k["smooth_tau"] > 0 else 1.0
    smooth, _ = lfilter([k_s], [1.0, -(1.0 - k_s)], e, zi=[(1.0 - k_s) * e[0]])
    previous = np.concatenate(([e[0]], smooth[:-1]))
    slope = (smooth - previous) / dt
    recovered = smooth + np.where(slope > 0, k["rise_tau"], k["decay_tau"]) * slope

    # Noise variances.
    warm = (t - t[0]) * 1e-6 >= d["warmup_s"]
    first_warm = int(np.argmax(warm)) if warm.any() else n
    x2 = recovered * recovered
    s2 = smooth * smooth
    a_n = pole_alpha(dt / d["noise_tau_s"])
    x0 = x2[: max(1, first_warm)].mean()
    s0 = s2[: max(1, first_warm)].mean()
    var_x, _ = lfilter([a_n], [1.0, -(1.0 - a_n)], x2, zi=[(1.0 - a_n) * x0])
    var_s, _ = lfilter([a_n], [1.0, -(1.0 - a_n)], s2, zi=[(1.0 - a_n) * s0])
    np.maximum(var_x, k["noise_floor2"], out=var_x)
    np.maximum(var_s, k["noise_floor2"], out=var_s)

    # Hits: thresholds, minimum duration, release, hysteresis.
    on2 = d["hit_on_sigma"] ** 2
    off2 = d["hit_off_sigma"] ** 2
    above = ((recovered > 0) & (x2 > on2 * var_x)) | ((smooth > 0) & (s2 > on2 * var_s))
    above &= warm
    recovered_up = (recovered > 0) & (x2 > off2 * var_x)
    n_on = max(1, int(np.ceil(d["hit_min_duration_s"] / dt)) + 1)
    n_off = max(1, int(np.ceil(d["hit_release_s"] / dt)) + 1)
    on_at = run_lengths_at_least(above, n_on)
    off_at = run_lengths_at_least(~recovered_up, n_off)
    in_hit = hysteresis(on_at, off_at, n)
    starts = np.flatnonzero(np.diff(np.concatenate(([False], in_hit)).astype(np.int8)) == 1)

    # History ring: the last `capacity` samples in inlet time.
    inlet = t - c["delay_s"] * 1e6
    m = min(n, ring.shape[1])
    ring[0, :m] = inlet[-m:]
    ring[1, :m] = smooth[-m:]
    ring[2, :m] = recovered[-m:]
    return smooth, inlet[starts]


def run(data, cfg, rings):
    """The whole pipeline over one interleaved stream; returns per-channel smoothed
    excess (None for environment channels) and the fused events."""
    channels = cfg["channels"]
    d = cfg["detection"]
    # De-interleave: a stable radix sort on the 16-bit channel index, one gather of rows.
    ch = data[:, 0].astype(np.uint16)
    order = np.argsort(ch, kind="stable")
    rows = np.take(data, order, axis=0)
    bounds = np.concatenate(([0], np.cumsum(np.bincount(ch, minlength=len(channels)))))
    t_all = np.ascontiguousarray(rows[:, 1])
    v_all = np.ascontiguousarray(rows[:, 2])

    def series(i):
        return t_all[bounds[i]:bounds[i + 1]], v_all[bounds[i]:bounds[i + 1]]

    # Environment: temperature and humidity, absolute humidity on their common times.
    env_t = {}
    for i, c in enumerate(channels):
        if c["kind"] in ("temperature", "humidity"):
            t, raw = series(i)
            ok = validate(c, t, raw)
            env_t[c["kind"]] = (t[ok], convert(c["kind"], c, raw[ok]))
    if "temperature" in env_t and "humidity" in env_t:
        times = np.union1d(env_t["temperature"][0], env_t["humidity"][0])
        temp = held(env_t["temperature"][1], held_index(env_t["temperature"][0], times))
        rh = np.clip(held(env_t["humidity"][1], held_index(env_t["humidity"][0], times)), 0, 100)
        vapour = 6.112 * np.exp(17.62 * temp / (243.12 + temp)) * rh / 100
        env = {"t": times, "temp": temp, "ah": 216.7 * vapour / (273.15 + temp)}
    elif "temperature" in env_t:
        times, temp = env_t["temperature"]
        env = {"t": times, "temp": temp, "ah": np.full(times.size, np.nan)}
    else:
        env = {"t": np.array([0.0]), "temp": np.array([np.nan]), "ah": np.array([np.nan])}

    excess = [None] * len(channels)
    onsets = []
    for i, c in enumerate(channels):
        if c["kind"] not in KINDS_GAS:
            continue
        t, raw = series(i)
        smooth, starts = process_gas(c, d, t, raw, env, rings[i])
        excess[i] = smooth
        onsets.append(np.stack([starts, np.full(starts.size, i, dtype=np.float64)], axis=1))

    # Fusion: onsets within the coincidence window of the previous one form a group;
    # a group with enough distinct channels is an event.
    events = 0
    if onsets:
        all_onsets = np.concatenate(onsets)
        if all_onsets.shape[0]:
            all_onsets = all_onsets[np.argsort(all_onsets[:, 0], kind="stable")]
            gap = np.diff(all_onsets[:, 0]) > d["coincidence_s"] * 1e6
            group = np.concatenate(([0], np.cumsum(gap)))
            pairs = np.unique(np.stack([group, all_onsets[:, 1].astype(np.int64)], axis=1), axis=0)
            per_group = np.bincount(pairs[:, 0])
            n_gas = sum(1 for c in channels if c["kind"] in KINDS_GAS)
            events = int(np.count_nonzero(per_group >= min(d["min_channels"], n_gas)))
    return excess, events


def ring_capacities(cfg):
    d = cfg["detection"]
    max_delay = max(c["delay_s"] for c in cfg["channels"])
    seconds = (d["max_event_s"] + d["event_pre_s"] + d["event_post_s"] + d["event_gap_s"]
               + d["coincidence_s"] + d["stale_after_s"] + 2 * max_delay + 5)
    return [int(np.ceil(c["rate_hz"] * seconds * 1.25)) + 16 if c["kind"] in KINDS_GAS else 0
            for c in cfg["channels"]]


def sanity(data, cfg, excess, swift_excess, skip_s=600.0):
    """Correlation and RMS ratio of the smoothed excess, NumPy vs Snuffel, per gas channel."""
    ch = data[:, 0].astype(np.int64)
    t = data[:, 1]
    start = t[0] + skip_s * 1e6
    rows = []
    for i, c in enumerate(cfg["channels"]):
        if excess[i] is None:
            continue
        mask = ch == i
        ours = swift_excess[mask]
        ref = excess[i]
        if ref.size != ours.size:
            rows.append((c["id"], np.nan, np.nan))
            continue
        keep = t[mask] >= start
        a, b = ours[keep], ref[keep]
        corr = float(np.corrcoef(a, b)[0, 1])
        ratio = float(np.sqrt(np.mean(b * b) / np.mean(a * a)))
        rows.append((c["id"], corr, ratio))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="directory written by snuffel-bench prepare")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per stream (median reported)")
    parser.add_argument("--results", help="file to append `key value` lines to (default DIR/results.txt)")
    args = parser.parse_args()
    results = args.results or os.path.join(args.dir, "results.txt")
    lines = []

    print(f"NumPy {np.__version__} / SciPy {__import__('scipy').__version__} reference, one core, "
          f"{args.runs} runs per stream (median, best):")
    print("  stream                       samples   median ms    best ms   M samples/s   ns/sample")
    kept = {}
    for count in (8, 16):
        data = np.fromfile(os.path.join(args.dir, f"stream{count}.f64"), dtype="<f8").reshape(-1, 3)
        with open(os.path.join(args.dir, f"channels{count}.json")) as f:
            cfg = json.load(f)
        caps = ring_capacities(cfg)
        rings = [np.zeros((3, max(1, cap))) for cap in caps]
        seconds = []
        out = None
        for r in range(args.runs + 1):
            t0 = time.perf_counter()
            out = run(data, cfg, rings)
            t1 = time.perf_counter()
            if r > 0:
                seconds.append(t1 - t0)
        median = float(np.median(seconds))
        best = float(np.min(seconds))
        n = data.shape[0]
        name = f"quiet, {count} ch @ 10 Hz"
        print(f"  {name:<24}{n:>12}{median * 1e3:>12.2f}{best * 1e3:>11.2f}{n / median / 1e6:>14.1f}"
              f"{median * 1e9 / n:>12.2f}")
        lines += [f"numpy_tput_{count}_median_s {median}", f"numpy_tput_{count}_best_s {best}",
                  f"numpy_tput_{count}_samples {n}", f"numpy_events_{count} {out[1]}"]
        kept[count] = (data, cfg, out)

    data, cfg, (excess, _) = kept[16]
    swift_excess = np.fromfile(os.path.join(args.dir, "excess16.f64"), dtype="<f8")
    rows = sanity(data, cfg, excess, swift_excess)
    corr = np.array([r[1] for r in rows])
    ratio = np.array([r[2] for r in rows])
    ok = bool(np.all(corr > 0.9) and np.all((ratio > 0.8) & (ratio < 1.25)))
    print("Sanity, smoothed excess NumPy vs Snuffel on stream16 after 600 s (correlation, RMS ratio):")
    print("  " + "  ".join(f"{cid} {c:.3f}/{q:.2f}" for cid, c, q in rows))
    print(f"  correlation min {np.nanmin(corr):.3f}, RMS ratio {np.nanmin(ratio):.2f}..{np.nanmax(ratio):.2f}: "
          f"{'agree' if ok else 'DISAGREE'}")
    lines += [f"sanity_corr_min {np.nanmin(corr)}", f"sanity_ratio_min {np.nanmin(ratio)}",
              f"sanity_ratio_max {np.nanmax(ratio)}", f"sanity_ok {1 if ok else 0}"]
    with open(results, "a") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
