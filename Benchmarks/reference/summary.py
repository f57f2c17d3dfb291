#!/usr/bin/env python3
"""Prints the final table of scripts/bench: figures, ratios and PASS/MISS per goal.

Usage: summary.py RESULTS_FILE HARNESS_DIR GATE_STATUS DATA_DIR

RESULTS_FILE holds the `key value` lines written by snuffel-bench, pipeline.py and the
Sensirion C harness; HARNESS_DIR the histogramPercentiles export of ordo-one/benchmark;
GATE_STATUS the exit status of `swift package benchmark thresholds check`; DATA_DIR holds
index_swift.i32 and index_c.i32 (the VOC index of both implementations).
"""

import glob
import os
import sys

import numpy as np

GATED = ["Quiet16Steady", "Quiet8Steady", "Quiet16Step", "Plumes16Steady"]
SAMPLES_PER_ITERATION = {"Quiet16Steady": 1600, "Quiet8Steady": 800, "Quiet16Step": 16,
                         "Plumes16Steady": 9600, "Plumes16Drain": 9600, "Plumes16Retain": 9600}


def read_results(path):
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                try:
                    out[parts[0]] = float(parts[1])
                except ValueError:
                    pass
    return out


def read_percentiles(directory, name, metric):
    """{percentile: value} of one benchmark's metric, or None."""
    files = glob.glob(os.path.join(directory, f"*.PipelineBenchmarks.{name}.{metric}.histogram.percentiles.tsv"))
    if not files:
        return None
    values = {}
    with open(files[0]) as f:
        next(f)
        for line in f:
            p, v = line.split("\t")
            values[int(p)] = float(v)
    return values


def status(ok):
    return "PASS" if ok else "MISS"


def main():
    results_path, harness_dir, gate_status, data_dir = sys.argv[1:5]
    r = read_results(results_path)
    rows = []  # (measure, snuffel, reference, ratio, goal, status)

    def rate(prefix, count):
        k = f"{prefix}_tput_{count}_median_s"
        n = r.get(f"{prefix}_tput_{count}_samples")
        return n / r[k] / 1e6 if k in r and n else float("nan")

    for prefix, build in (("swift", "generic x86-64"), ("swift_native", "-target-cpu native")):
        for count in (8, 16):
            ours, ref = rate(prefix, count), rate("numpy", count)
            if ours != ours:
                continue
            ratio = ours / ref
            batched = r.get(f"{prefix}_tput_{count}_batched", float("nan")) * 100
            rows.append((f"throughput {count} ch ({build}), M ch-samples/s", f"{ours:.1f} ({batched:.1f} % batched)",
                         f"NumPy {ref:.1f}", f"{ratio:.1f}x", ">= 10x NumPy",
                         status(ratio >= 10) + (f" ({ratio / 10:.2f} of goal)" if ratio < 10 else "")))
            rows.append((f"throughput {count} ch ({build}), absolute", f"{ours:.1f}", "", "", ">= 200 M/s",
                         status(ours >= 200) + (f" ({ours / 200:.2f} of goal)" if ours < 200 else "")))
    if "swift_tput_events16_median_s" in r:
        n = r["swift_tput_events16_samples"]
        ours = n / r["swift_tput_events16_median_s"] / 1e6
        rows.append(("throughput 16 ch with plumes", f"{ours:.1f}", "(not run)", "",
                     f"{int(r.get('swift_tput_events16_detections', 0))} detections", "info"))

    if "swift_posterior_median_s" in r:
        ours, ref = r["swift_posterior_median_s"], r.get("numpy_posterior_scaled_s", float("nan"))
        ratio = ref / ours
        rows.append(("posterior 256x256, 1e5 looks, s (one thread)", f"{ours:.2f}",
                     f"NumPy dense {ref:.0f} (scaled from {int(r.get('numpy_posterior_timed_looks', 0))} looks)",
                     f"{ratio:.0f}x", ">= 20x NumPy", status(ratio >= 20)))
        rows.append(("posterior 256x256, 1e5 looks, absolute", f"{ours:.2f} s", "", "", "< 2 s",
                     status(ours < 2) + (f" ({ours / 2:.2f}x the goal)" if ours >= 2 else "")))
    if "swift_posterior_dense_s" in r:
        dense, ref = r["swift_posterior_dense_s"], r.get("numpy_posterior_scaled_s", float("nan"))
        rows.append(("posterior 256x256, same, every cell (no pruning)", f"{dense:.2f} s", f"NumPy dense {ref:.0f}",
                     f"{ref / dense:.0f}x", "", "info"))
    if "posterior_pruned_mass_lost" in r:
        rows.append(("posterior pruning vs every cell: mass lost", f"{r['posterior_pruned_mass_lost']:.1e}",
                     f"peak cell {'same' if r.get('posterior_pruned_same_peak') == 1 else 'moved %.1f m' % r['posterior_pruned_peak_shift_m']}, "
                     f"r50 {r['posterior_pruned_r50_diff_m']:+.2f} m, r95 {r['posterior_pruned_r95_diff_m']:+.2f} m",
                     "", "say the cost", "info"))
    if "posterior_small_maxdiff" in r:
        rows.append(("posterior 48x48 vs NumPy: max |diff|", f"{r['posterior_small_maxdiff']:.1e}",
                     f"peak {r['posterior_small_peak']:.1e}", "", "same peak cell",
                     "PASS" if r.get("posterior_small_samepeak") == 1 else "MISS"))
    if "swift_replay_total_s" in r:
        rows.append(("replay 1 h, 16 ch, 50 Hz, end to end, s", f"{r['swift_replay_total_s']:.2f}",
                     f"read+pipeline {r['swift_replay_read_s']:.2f}, localise {r['swift_replay_locate_s']:.2f}, "
                     f"export {r['swift_replay_export_s']:.2f}", "", "< 1 s",
                     status(r["swift_replay_total_s"] < 1)
                     + (f" ({r['swift_replay_total_s']:.1f}x the goal)" if r["swift_replay_total_s"] >= 1 else "")))

    for count in (16, 8):
        p50 = r.get(f"swift_latency_{count}_hot_p50_ns", float("nan"))
        p99 = r.get(f"swift_latency_{count}_hot_p99_ns", float("nan"))
        c50 = r.get(f"swift_latency_{count}_cold_p50_ns", float("nan"))
        c99 = r.get(f"swift_latency_{count}_cold_p99_ns", float("nan"))
        goal = "p99 < 1000 ns" if count == 16 else ""
        st = status(p99 < 1000) + (f" (p99 {p99 / 1000:.2f}x the goal)" if p99 >= 1000 else "") if count == 16 else "info"
        rows.append((f"step latency {count} ch hot, p50/p99 ns", f"{p50:.0f} / {p99:.0f}", "", "", goal, st))
        rows.append((f"step latency {count} ch L2-cold, p50/p99 ns", f"{c50:.0f} / {c99:.0f}", "", "", "", "info"))

    for hz in (10, 50):
        key = f"daemon_{hz}hz"
        if f"{key}_cpu_s_per_hour" not in r:
            continue
        cpu = r[f"{key}_cpu_s_per_hour"]
        share = cpu / 3600 * 100
        rows.append((f"daemon {hz} Hz: CPU s per flight hour (runtime)", f"{cpu:.2f} s = {share:.3f} % of a core", "", "",
                     "< 2 % of one core" if hz == 10 else "", status(share < 2) if hz == 10 else "info"))
        rss = r[f"{key}_peak_rss_mb"]
        rows.append((f"daemon {hz} Hz: peak RSS (runtime process)", f"{rss:.1f} MB", "", "", "< 30 MB", status(rss < 30)))
        rows.append((f"daemon {hz} Hz: detection to STATUSTEXT p50/p99", f"{r[f'{key}_latency_p50_us']:.0f} / "
                     f"{r[f'{key}_latency_p99_us']:.0f} µs", f"{int(r[f'{key}_detections'])} detections", "", "", "info"))
        if f"{key}_process_cpu_percent" in r:
            rows.append((f"snuffeld process in real time, {hz} Hz", f"{r[f'{key}_process_cpu_percent']:.2f} % of a core",
                         f"VmHWM {r[f'{key}_process_rss_mb']:.1f} MB, its whole simulated flight held in memory", "", "", "info"))

    voc_n = r.get("voc_samples", float("nan"))
    ours = voc_n / r.get("swift_voc_median_s", float("nan")) / 1e6
    theirs = voc_n / r.get("c_voc_median_s", float("nan")) / 1e6
    ratio = ours / theirs
    rows.append(("VOC index, M samples/s", f"{ours:.2f}", f"C -O2 {theirs:.2f}", f"{ratio:.2f}x", ">= 2x Sensirion C",
                 status(ratio >= 2) + (f" ({ratio / 2:.2f} of goal)" if ratio < 2 else "")))
    try:
        a = np.fromfile(os.path.join(data_dir, "index_swift.i32"), dtype="<i4")
        b = np.fromfile(os.path.join(data_dir, "index_c.i32"), dtype="<i4")
        same = int(np.count_nonzero(a == b)) if a.size == b.size else 0
        rows.append(("VOC index agreement, samples", f"{same} of {a.size} equal", "", "",
                     f"max |diff| {int(np.abs(a - b).max()) if a.size == b.size else -1}", "info"))
    except OSError:
        rows.append(("VOC index agreement", "n/a", "", "", "", "info"))

    for name in GATED + ["Plumes16Drain", "Plumes16Retain"]:
        m = read_percentiles(harness_dir, name, "mallocCountTotal")
        if m is None:
            rows.append((f"mallocs {name}", "not run", "", "", "", "MISS" if name in GATED else "info"))
            continue
        per = SAMPLES_PER_ITERATION[name]
        worst = m[100]
        if name in GATED:
            rows.append((f"mallocs/sample {name}", f"{worst / per:g}", f"(max {worst:g} per {per})", "", "0",
                         status(worst == 0)))
        else:
            rows.append((f"mallocs {name} (not gated)", f"p90 {m[90]:g}, max {worst:g} per {per}", "", "", "",
                         "info"))
    w = read_percentiles(harness_dir, "Quiet16Step", "wallClock")
    if w is not None:
        rows.append(("step latency 16 ch, ordo-one p50/p99 ns", f"{w[50]:.0f} / {w[99]:.0f}", "", "",
                     "incl. harness", "info"))
    gate = int(gate_status)
    rows.append(("zero-allocation gate (thresholds check)", "exit 0" if gate == 0 else f"exit {gate}", "", "",
                 "exit 0", "PASS" if gate == 0 else "FAIL"))
    if "sanity_ok" in r:
        rows.append(("sanity: smoothed excess NumPy vs Snuffel",
                     f"corr >= {r['sanity_corr_min']:.3f}",
                     f"RMS {r['sanity_ratio_min']:.2f}..{r['sanity_ratio_max']:.2f}", "", "agree",
                     "PASS" if r["sanity_ok"] else "MISS"))

    headers = ("measure", "Snuffel", "reference", "ratio", "goal", "status")
    widths = [max(len(str(row[i])) for row in rows + [headers]) for i in range(6)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
