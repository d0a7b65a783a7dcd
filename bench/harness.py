"""The timing harness: calibrated loops, interleaved rounds, medians and spread.

Implementation note: we time in-process rather than with pyperf worker
processes. Every figure we publish is a ratio between peers, and on a shared
machine the thing that spoils a ratio is drift (another build starting,
frequency changes) between the moment one peer is timed and the moment the
next one is. So each round times every peer once, in a rotated order, with the
garbage collector off; loops are calibrated per peer so every timing lasts
about ``target`` seconds (a peer too slow for even one pass over the keys times
a prefix of them, on the same cache); we keep every round and report the median with the
inter-quartile range and min-max. The loop body is compiled from source text
(as ``timeit`` does), so each peer is called through the very expression a user
writes (``c.get(k)``, ``d.get(k)``, ``c[k] = v``), with no adapter in between.

Implementation note on the clock: single-threaded loops are timed with the
thread's CPU clock (``time.thread_time``, CLOCK_THREAD_CPUTIME_ID: nanosecond
resolution on Linux), not wall time. On a machine shared with other builds a
wall-clock timing also counts the time the process sat descheduled, which has
nothing to do with the peer being timed. Cache pollution by the neighbours
still shows; that is what the interleaving and the medians are for. The
threaded workload needs wall time and uses ``time.perf_counter``.
"""

import gc
import json
import os
import statistics
import sys
import time

#: The clock of single-threaded timings (see the module docstring).
TIMER = time.thread_time

_TEMPLATE = """
def _run(c, keys, v, loops, _timer=_timer):
    _range = range(loops)
    t0 = _timer()
    for _ in _range:
        for {target} in keys:
{body}
    return _timer() - t0
"""


def compile_loop(body, target="k", namespace=None):
    """Compile ``body`` (statements using ``c``, ``k`` and ``v``) into a timed loop.

    Returns ``run(c, keys, v, loops) -> seconds`` that executes ``body`` once
    for every item of ``keys`` (bound to ``target``), ``loops`` times over.
    ``namespace`` supplies extra globals the body may use (a lock, say).
    """
    lines = "\n".join("            " + line for line in body.strip().splitlines())
    source = _TEMPLATE.format(body=lines, target=target)
    globs = {"_timer": TIMER, **(namespace or {})}
    exec(compile(source, f"<bench: {body.strip()}>", "exec"), globs)
    return globs["_run"]


class Case:
    """One peer on one workload.

    ``bind(items) -> run(loops) -> seconds`` runs the workload over ``items``
    (one op per item) ``loops`` times. Calibration may bind a prefix of
    ``items`` instead, for a peer so slow that one pass over all of them
    would far outlast a timing; the cache it works on stays the same.
    """

    #: never time fewer items than this
    MIN_ITEMS = 2_000

    def __init__(self, peer, bind, items):
        self.peer = peer
        self.bind = bind
        self.items = items
        self.run = bind(items)
        self.ops_per_loop = len(items)
        self.loops = 1


class Result:
    """Per-op timings (seconds) of one case, one per round."""

    def __init__(self, peer, samples, loops, ops_per_loop):
        self.peer = peer
        self.samples = samples
        self.loops = loops
        self.ops_per_loop = ops_per_loop

    @property
    def median(self):
        return statistics.median(self.samples)

    def quartiles(self):
        if len(self.samples) < 2:
            return self.samples[0], self.samples[0]
        q = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q[0], q[2]

    def to_json(self):
        q1, q3 = self.quartiles()
        return {
            "median_ns": self.median * 1e9,
            "q1_ns": q1 * 1e9,
            "q3_ns": q3 * 1e9,
            "min_ns": min(self.samples) * 1e9,
            "max_ns": max(self.samples) * 1e9,
            "rounds_ns": [s * 1e9 for s in self.samples],
            "loops": self.loops,
            "ops_per_loop": self.ops_per_loop,
        }


def _timed(run, loops):
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return run(loops)
    finally:
        if gc_was_enabled:
            gc.enable()


def calibrate(case, target):
    """Pick the loop count (and, for a slow peer, a prefix of the items) so one
    timing of ``case`` lasts about ``target`` seconds."""
    _timed(case.run, 1)  # warm-up: specialise the bytecode, fault the pages in
    elapsed = _timed(case.run, 1)
    if elapsed > 2 * target and case.ops_per_loop > case.MIN_ITEMS:
        count = max(case.MIN_ITEMS, int(case.ops_per_loop * target / elapsed))
        case.run = case.bind(case.items[:count])
        case.ops_per_loop = count
        _timed(case.run, 1)
    loops = 1
    while True:
        elapsed = _timed(case.run, loops)
        if elapsed >= target or loops >= 1 << 20:
            break
        if elapsed <= 0:
            loops *= 10
            continue
        loops = max(loops + 1, min(loops * 10, int(loops * target * 1.2 / elapsed)))
    case.loops = loops


def measure(cases, rounds, target, progress=None):
    """Time every case ``rounds`` times, rotating the order each round.

    Returns ``{peer: Result}`` with per-op seconds.
    """
    for case in cases:
        calibrate(case, target)
    samples = {case.peer: [] for case in cases}
    for r in range(rounds):
        shift = r % len(cases)
        for case in cases[shift:] + cases[:shift]:
            elapsed = _timed(case.run, case.loops)
            samples[case.peer].append(elapsed / (case.loops * case.ops_per_loop))
        if progress:
            progress(r + 1, rounds)
    return {
        case.peer: Result(case.peer, samples[case.peer], case.loops, case.ops_per_loop)
        for case in cases
    }


def log(message):
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_results(data, out_dir, name, lines):
    """``<name>.md`` (a line naming the command, the machine and its load, then
    ``lines``) and ``<name>.json`` (the command, the machine and ``data[name]``)
    in ``out_dir``, as each workload with a report of its own writes them; the
    Markdown's text."""
    os.makedirs(out_dir, exist_ok=True)
    m = data["machine"]
    load = ", ".join(f"{x:.2f}" for x in m.get("load_average") or [])
    load_end = ", ".join(f"{x:.2f}" for x in m.get("load_average_end") or [])
    text = "\n".join([f"Command: `{data['config']['command']}` · {m['date']} · {m['cpu_model']}, "
                      f"{m['cpu_count']} cores · load average at start {load}, at the end {load_end}", ""]
                     + list(lines))
    with open(os.path.join(out_dir, f"{name}.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump({"command": data["config"]["command"], "machine": m, name: data[name]}, f, indent=1)
        f.write("\n")
    return text
