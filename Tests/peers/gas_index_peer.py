#!/usr/bin/env python3
"""Peer for GasIndexAlgorithm: runs Sensirion's own gas index algorithm on generated input.

Usage: gas_index_peer.py OUTFILE

Needs `pip install sensirion-gas-index-algorithm==3.2.2` (a source distribution that
compiles Sensirion's C code, float build). Exits with status 3 and a message on stderr
when the package is missing.

Generates, from fixed seeds, series of SGP4x raw values for VOC and NOx (random walks,
slow drift, steps, spikes, bursts of plumes, long clean periods, values at and beyond the
0 / 65535 limits, sampling intervals of 1 s and 10 s, default and custom tuning, a restore
from saved states), feeds each through the package and writes OUTFILE, little-endian:

    file:   b"SNGI", int32 version (1), int32 series count, then the series
    series: int32 kind (0 VOC, 1 NOx), float32 sampling interval,
            int32 has_tuning, 6 x int32 tuning (index offset, learning time offset hours,
                learning time gain hours, gating max duration minutes, std initial, gain),
            int32 resume_at (-1: none; else after that many samples the peer read
                get_states(), made a fresh algorithm with the same tuning and called
                set_states() on it), float32 state0, float32 state1 (the states it
                carried over, exact; see exact_states),
            int32 sample count, then count x (int32 sraw, int32 index)
"""

import array
import math
import random
import struct
import sys

PACKAGE = "sensirion-gas-index-algorithm==3.2.2"

try:
    from sensirion_gas_index_algorithm import sensirion_gas_index_algorithm_wrap as wrap
except ImportError as error:
    sys.stderr.write(
        "gas_index_peer: cannot import sensirion_gas_index_algorithm (%s); "
        "install it with: pip install %s\n" % (error, PACKAGE))
    sys.exit(3)

VOC, NOX = 0, 1


class Signal:
    """A raw-signal generator: baseline with drift and random walk, plus events."""

    def __init__(self, rng, base, sign, noise=4.0, walk=0.0, walk_limit=0.0,
                 drift_amp=0.0, drift_period=86400.0, dt=1.0):
        self.rng = rng
        self.base = base
        self.sign = sign          # direction of a gas event: -1 VOC (SRAW falls), +1 NOx
        self.noise = noise
        self.walk = walk
        self.walk_limit = walk_limit
        self.drift_amp = drift_amp
        self.drift_period = drift_period
        self.dt = dt
        self.t = 0.0
        self.walk_value = 0.0
        self.step = 0.0
        self.puffs = []           # [amplitude, decay per sample]
        self.out = []

    def _value(self):
        rng = self.rng
        self.t += self.dt
        if self.walk:
            self.walk_value += rng.gauss(0.0, self.walk)
            if self.walk_value > self.walk_limit:
                self.walk_value = 2 * self.walk_limit - self.walk_value
            elif self.walk_value < -self.walk_limit:
                self.walk_value = -2 * self.walk_limit - self.walk_value
        v = self.base + self.step + self.walk_value + rng.gauss(0.0, self.noise)
        if self.drift_amp:
            v += self.drift_amp * math.sin(2 * math.pi * self.t / self.drift_period)
        if self.puffs:
            total = 0.0
            alive = []
            for puff in self.puffs:
                total += puff[0]
                puff[0] *= puff[1]
                if abs(puff[0]) > 0.5:
                    alive.append(puff)
            self.puffs = alive
            v += self.sign * total
        return v

    def emit(self, value):
        self.out.append(min(max(int(round(value)), 0), 65535))

    def clean(self, n):
        for _ in range(n):
            self.emit(self._value())

    def puff(self, amplitude, tau_seconds):
        self.puffs.append([amplitude, math.exp(-self.dt / tau_seconds)])

    def plumes(self, n, rate, amp_lo, amp_hi, tau_lo=3.0, tau_hi=60.0, burst=(1, 6)):
        """n samples in which bursts of puffs start with probability `rate` per sample."""
        rng = self.rng
        for _ in range(n):
            if rng.random() < rate:
                for _ in range(rng.randint(*burst)):
                    self.puff(rng.uniform(amp_lo, amp_hi), rng.uniform(tau_lo, tau_hi))
            self.emit(self._value())

    def steps(self, n, rate, amp):
        rng = self.rng
        for _ in range(n):
            if rng.random() < rate:
                self.step = rng.uniform(-amp, amp)
            self.emit(self._value())

    def spikes(self, n, rate, amp):
        rng = self.rng
        for _ in range(n):
            v = self._value()
            if rng.random() < rate:
                v += rng.uniform(-amp, amp)
            self.emit(v)

    def hold(self, n, amplitude):
        """A long event: the signal sits `amplitude` away from the baseline."""
        for _ in range(n):
            self.emit(self._value() + self.sign * amplitude)

    def limits(self, n, rate, specials):
        """Replace samples, with probability `rate`, by a value from `specials`."""
        rng = self.rng
        for _ in range(n):
            v = self._value()
            if rng.random() < rate:
                self.out.append(rng.choice(specials))
            else:
                self.emit(v)

    def samples(self):
        return self.out


def limit_values(minimum):
    """Raw values at and around every boundary the algorithm has."""
    return [-1, 0, 1, 2, minimum - 1, minimum, minimum + 1, minimum + 2,
            minimum + 32766, minimum + 32767, minimum + 32768, 64998, 64999, 65000,
            65001, 65534, 65535, 70000]


def build_series():
    series = []  # (kind, interval, tuning or None, resume_at, samples)

    # VOC, 1 s: a long flight day: clean air, drifting baseline, plume bursts, and a
    # four-hour event that outlasts the 180-minute gating limit.
    s = Signal(random.Random(101), 30000, -1, noise=5, walk=0.6, walk_limit=400,
               drift_amp=800, drift_period=6 * 3600)
    s.clean(30000)
    s.plumes(60000, 0.002, 30, 800, tau_hi=30, burst=(1, 4))
    s.clean(20000)
    s.hold(4 * 3600, 1200)
    s.clean(20000)
    s.plumes(40000, 0.004, 100, 3000, tau_hi=20, burst=(3, 12))
    s.clean(15600)
    series.append((VOC, 1.0, None, -1, s.samples()))

    # VOC, 1 s: random walk with steps and spikes, then the limits.
    s = Signal(random.Random(202), 28000, -1, noise=8, walk=3, walk_limit=3000)
    s.steps(60000, 0.0005, 3000)
    s.spikes(50000, 0.01, 8000)
    s.limits(40000, 0.02, limit_values(20000))
    series.append((VOC, 1.0, None, -1, s.samples()))

    # VOC, 1 s: a baseline near the SRAW minimum and maximum, to hit the clamps.
    s = Signal(random.Random(303), 20400, -1, noise=30, walk=5, walk_limit=600)
    s.clean(25000)
    s.base = 52500
    s.plumes(25000, 0.005, 100, 3000)
    s.limits(20000, 0.05, limit_values(20000))
    series.append((VOC, 1.0, None, -1, s.samples()))

    # VOC, 1 s, custom tuning.
    s = Signal(random.Random(404), 31000, -1, noise=6, walk=1, walk_limit=800,
               drift_amp=500, drift_period=3 * 3600)
    s.clean(20000)
    s.plumes(60000, 0.002, 30, 1000, tau_hi=30, burst=(1, 4))
    s.hold(2 * 3600, 900)
    s.plumes(20000, 0.01, 50, 2000, tau_hi=20)
    series.append((VOC, 1.0, (150, 24, 6, 60, 100, 300), -1, s.samples()))

    # VOC, 1 s: restore from saved states after 5 hours.
    s = Signal(random.Random(505), 29500, -1, noise=5, walk=0.8, walk_limit=500)
    s.plumes(100000, 0.002, 30, 800, tau_hi=30, burst=(1, 4))
    series.append((VOC, 1.0, None, 18000, s.samples()))

    # VOC, 10 s: two weeks, with drift, plumes and long events.
    s = Signal(random.Random(606), 30500, -1, noise=6, walk=2, walk_limit=1500,
               drift_amp=1000, drift_period=86400, dt=10.0)
    s.clean(10000)
    s.plumes(40000, 0.01, 50, 3000, tau_lo=10, tau_hi=300)
    s.hold(2000, 1500)
    s.plumes(40000, 0.003, 50, 3000, tau_lo=10, tau_hi=300)
    s.limits(20000, 0.01, limit_values(20000))
    series.append((VOC, 10.0, None, -1, s.samples()))

    # VOC, 10 s, custom tuning with gating off, and a restore.
    s = Signal(random.Random(707), 27000, -1, noise=10, walk=4, walk_limit=2000, dt=10.0)
    s.steps(30000, 0.002, 2500)
    s.spikes(20000, 0.02, 6000)
    series.append((VOC, 10.0, (80, 6, 48, 0, 20, 500), 4000, s.samples()))

    # NOx, 1 s: clean air with NOx plumes (exhaust), a long event, and long gaps.
    s = Signal(random.Random(808), 16000, 1, noise=3, walk=0.4, walk_limit=300,
               drift_amp=300, drift_period=8 * 3600)
    s.clean(40000)
    s.plumes(80000, 0.002, 20, 1200)
    s.hold(13 * 3600, 400)
    s.clean(20000)
    s.plumes(33200, 0.01, 20, 2500, burst=(2, 10))
    series.append((NOX, 1.0, None, -1, s.samples()))

    # NOx, 1 s: random walk, steps, spikes and the limits.
    s = Signal(random.Random(909), 15000, 1, noise=6, walk=2, walk_limit=2500)
    s.steps(40000, 0.0005, 2500)
    s.spikes(30000, 0.01, 6000)
    s.limits(30000, 0.03, limit_values(10000))
    series.append((NOX, 1.0, None, -1, s.samples()))

    # NOx, 1 s: near the SRAW minimum and maximum, custom tuning.
    s = Signal(random.Random(1010), 10300, 1, noise=20, walk=3, walk_limit=400)
    s.plumes(30000, 0.003, 50, 2000)
    s.base = 42500
    s.plumes(30000, 0.003, 50, 2000)
    s.limits(20000, 0.05, limit_values(10000))
    series.append((NOX, 1.0, (20, 4, 12, 120, 50, 400), -1, s.samples()))

    # NOx, 10 s: two weeks.
    s = Signal(random.Random(1111), 17000, 1, noise=4, walk=1.5, walk_limit=1000,
               drift_amp=600, drift_period=86400, dt=10.0)
    s.clean(20000)
    s.plumes(60000, 0.005, 20, 2000, tau_lo=10, tau_hi=300)
    s.hold(5000, 500)
    s.plumes(35000, 0.002, 20, 2000, tau_lo=10, tau_hi=300)
    series.append((NOX, 10.0, None, -1, s.samples()))

    # NOx, 10 s: steps and the limits.
    s = Signal(random.Random(1212), 14000, 1, noise=8, walk=3, walk_limit=2000, dt=10.0)
    s.steps(30000, 0.003, 2000)
    s.limits(30000, 0.03, limit_values(10000))
    series.append((NOX, 10.0, None, -1, s.samples()))

    return series


def make(kind, interval, tuning):
    algorithm = wrap.GasIndexAlgorithmParams(kind, interval)
    if tuning is not None:
        algorithm.set_tuning_parameters(*tuning)
    return algorithm


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def exact_states(algorithm):
    """get_states() as the C code computes it.

    The package's own get_states() truncates both states to int (its SWIG wrapper
    converts the float outputs with SWIG_From_int), so read the fields instead: the sum
    of two floats is exact in a double, and rounding it to float32 gives C's float sum.
    """
    mean = algorithm.m_Mean_Variance_Estimator___Mean
    offset = algorithm.m_Mean_Variance_Estimator___Sraw_Offset
    return float32(mean + offset), algorithm.m_Mean_Variance_Estimator___Std


def run(kind, interval, tuning, resume_at, samples):
    algorithm = make(kind, interval, tuning)
    process = algorithm.process
    indices = array.array("i")
    state = (0.0, 0.0)
    for i, sraw in enumerate(samples):
        if i == resume_at:
            state = exact_states(algorithm)
            algorithm = make(kind, interval, tuning)
            algorithm.set_states(*state)
            process = algorithm.process
        indices.append(process(sraw))
    return indices, state


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gas_index_peer.py OUTFILE\n")
        return 2
    series = build_series()
    out = bytearray(b"SNGI")
    out += struct.pack("<ii", 1, len(series))
    for kind, interval, tuning, resume_at, samples in series:
        indices, state = run(kind, interval, tuning, resume_at, samples)
        out += struct.pack("<ifi6iiffi", kind, interval, tuning is not None,
                           *(tuning or (0,) * 6), resume_at, state[0], state[1],
                           len(samples))
        pairs = array.array("i", [0]) * (2 * len(samples))
        pairs[0::2] = array.array("i", samples)
        pairs[1::2] = indices
        if sys.byteorder != "little":
            pairs.byteswap()
        out += pairs.tobytes()
    with open(sys.argv[1], "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
