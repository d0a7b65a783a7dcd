"""``python -m bench [--quick] [--only WORKLOAD ...] [--out DIR]``: run the suite, write the report.

Progress goes to stderr; the Markdown report (summary, targets, details) goes
to stdout and to ``bench/results/latest.md``, with ``latest.png`` and
``latest.json`` next to it.
"""

import argparse
import os
import sys
import time

from . import expiry, harness, keyspace, machine, memory, monitor, peers, report, targets
from . import async_tier, frameworks, hitratio, near, shared, threads, workloads

WORKLOADS = ("micro", "mix", "threads", "memory", "cleanup", "monitor", "hitratio", "shared", "near",
             "async", "frameworks")
#: The workloads reported in latest.{md,png,json}; the others write files of their own.
TIMING_REPORT = ("micro", "mix", "threads", "memory", "cleanup", "monitor")

#: Sizes per mode. Full: the sizes the targets were set at; quick: tiny, every workload, under a minute.
MODES = {
    "full": dict(n_keys=100_000, rounds=21, target=0.02, mix_keys=100_000, mix_ops=300_000,
                 thread_rounds=15, memory_n=1_000_000, cleanup_n=(10_000, 100_000, 1_000_000),
                 cleanup_k=1_000, cleanup_rounds=7, monitor_n=10_000),
    "quick": dict(n_keys=2_000, rounds=3, target=0.005, mix_keys=2_000, mix_ops=10_000,
                  thread_rounds=2, memory_n=20_000, cleanup_n=(1_000, 3_000, 10_000),
                  cleanup_k=100, cleanup_rounds=2, monitor_n=1_000),
}


def _progress(label):
    return lambda r, total: harness.log(f"{label}: round {r}/{total}")


def _results(results):
    return {name: result.to_json() for name, result in results.items()}


def _stats(seconds):
    import statistics

    ns = [s * 1e9 for s in seconds]
    return {"median_ns": statistics.median(ns), "min_ns": min(ns), "max_ns": max(ns),
            "rounds_ns": ns}


def _micro(cfg, data):
    for kind, make in (("str", keyspace.str_keys), ("int", keyspace.int_keys)):
        held, absent = make(cfg["n_keys"]), make(cfg["n_keys"], cfg["n_keys"])
        data["micro"][kind] = {}
        for op in workloads.MICRO_OPS:
            harness.log(f"micro: {op}, {cfg['n_keys']:,} {kind} keys")
            res = workloads.micro(peers.ALL, op, held, absent, cfg["rounds"], cfg["target"],
                                  _progress(f"  {op} ({kind})"))
            data["micro"][kind][op] = _results(res)


def _mix(cfg, data, sequence):
    maxsize = cfg["mix_maxsize"]
    harness.log(f"mix: Zipf(0.99) 90/10 over {cfg['mix_keys']:,} keys, bound {maxsize:,}")
    res, ratios = workloads.mix(peers.ALL, sequence, maxsize, cfg["rounds"], cfg["target"],
                                _progress("  mix"))
    data["mix"] = {"results": _results(res), "hit_ratio": ratios}


def _threads(cfg, data, sequence):
    data["threads"] = {}
    for n in (1, 2, 4):
        harness.log(f"threads: the mix on {n} thread(s)")
        res = threads.threaded_mix(peers.ALL, sequence, cfg["mix_maxsize"], n,
                                   cfg["thread_rounds"], cfg["target"],
                                   _progress(f"  {n} thread(s)"))
        data["threads"][str(n)] = _results(res)


def _memory(cfg, data):
    data["memory"] = {}
    for peer in peers.ALL:
        harness.log(f"memory: {peer.name}, {cfg['memory_n']:,} entries (subprocess)")
        data["memory"][peer.name] = memory.per_entry(peer.name, cfg["memory_n"])


def _cleanup(cfg, data):
    data["cleanup"] = {}
    for n in cfg["cleanup_n"]:
        harness.log(f"cleanup_expired: {cfg['cleanup_k']:,} expired among {n:,}")
        samples = expiry.cleanup(n, cfg["cleanup_k"], cfg["cleanup_rounds"],
                                 progress=_progress(f"  n={n:,}"))
        data["cleanup"][str(n)] = {name: _stats(s) for name, s in samples.items()}


def _monitor(cfg, data):
    harness.log("monitor: recording one operation")
    res = monitor.record(cfg["monitor_n"], cfg["rounds"], cfg["target"], _progress("  monitor"))
    data["monitor"] = _results(res)


def run(mode, only, command):
    cfg = dict(MODES[mode], mode=mode, command=command, workloads=list(only),
               timer="time.thread_time (thread CPU time); threads: time.perf_counter (wall)")
    data = {"config": cfg, "machine": machine.describe()}
    started = time.perf_counter()

    # The bare loop, for reference: what every ns/op figure includes besides the call.
    keys = keyspace.str_keys(cfg["n_keys"])
    loop = harness.compile_loop("pass")
    bare = harness.Case("loop", lambda items: lambda loops: loop(None, items, None, loops), keys)
    data["loop_overhead_ns"] = harness.measure([bare], cfg["rounds"], cfg["target"])["loop"].median * 1e9

    def guarded(name, step):
        # One failing workload is reported and the others still run.
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - reported, then the run goes on
            harness.log(f"{name}: FAILED: {exc!r}")
            data.setdefault("errors", {})[name] = repr(exc)

    data["micro"] = {}
    if "micro" in only:
        guarded("micro", lambda: _micro(cfg, data))
    if "mix" in only or "threads" in only:
        mix_keys = keyspace.str_keys(cfg["mix_keys"])
        sequence = keyspace.mix_sequence(mix_keys, cfg["mix_ops"])
        cfg["mix_maxsize"] = cfg["mix_keys"] // 10
    if "mix" in only:
        guarded("mix", lambda: _mix(cfg, data, sequence))
    if "threads" in only:
        guarded("threads", lambda: _threads(cfg, data, sequence))
    if "memory" in only:
        guarded("memory", lambda: _memory(cfg, data))
    if "cleanup" in only:
        guarded("cleanup", lambda: _cleanup(cfg, data))
    if "monitor" in only:
        guarded("monitor", lambda: _monitor(cfg, data))
    if "hitratio" in only:  # written to hitratio.{md,png,json} by main()
        guarded("hitratio", lambda: data.__setitem__("hitratio", hitratio.run(mode)))
    if "shared" in only:
        guarded("shared", lambda: data.update(shared=shared.run(mode)))
    if "near" in only:
        guarded("near", lambda: data.update(near=near.run(mode)))
    if "async" in only:
        guarded("async", lambda: data.__setitem__("async", async_tier.run(mode)))
    if "frameworks" in only:
        guarded("frameworks", lambda: data.update(frameworks=frameworks.run(mode)))

    data["machine"]["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    data["elapsed_s"] = time.perf_counter() - started
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, every workload, under a minute (a smoke run)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS),
                        help="run only these workloads")
    parser.add_argument("--out", default=None,
                        help="directory for latest.md, latest.png and latest.json (default: "
                             "bench/results, or bench/results/quick with --quick, which git "
                             "ignores, so a smoke run never overwrites the committed results)")
    parser.add_argument("--render", action="store_true",
                        help="time nothing: write latest.md again from the latest.json in --out")
    args = parser.parse_args(argv)
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    readme = os.path.join(os.path.dirname(results), os.pardir, "README.md")
    if args.render:
        report.render(args.out or results)
        report.update_readme(args.out or results, readme)
        return 0
    mode = "quick" if args.quick else "full"
    if args.out is None:
        args.out = os.path.join(results, "quick") if args.quick else results
    command = "python -m bench" + (" --quick" if args.quick else "") + (
        f" --only {' '.join(args.only)}" if args.only != list(WORKLOADS) else "")
    harness.log(f"{mode} run of {', '.join(args.only)}")
    data = run(mode, args.only, command)
    if "hitratio" in data:
        print(hitratio.write(data.pop("hitratio"), args.out))
    checked = targets.check(data)
    if "shared" in data:
        shared.write(data, args.out)
    if "near" in data:
        near.write(data, args.out)
        print(near.markdown(data["near"]))
    if "async" in data:
        async_tier.write(data, args.out)
        print("\n".join(async_tier.markdown(data["async"])))
    if "frameworks" in data:
        print(frameworks.write(data, args.out))
    # A run of only hitratio, shared or near leaves the timing report as it was.
    timed = bool(set(args.only) & set(TIMING_REPORT))
    if timed:
        print(report.write(data, checked, args.out))
    if os.path.abspath(args.out) == results and os.path.exists(readme):
        report.update_readme(results, readme)  # the README's headline figures follow the results
    harness.log(f"done in {data['elapsed_s']:.0f} s; wrote results to {args.out}")
    print("\nTargets:")
    for t in checked:
        fig = "–" if t.figure is None else f"{t.figure:,.2f} {t.unit}"
        print(f"  {t.verdict:4}  {t.name}: {fig}")
    if data.get("errors"):
        harness.log(f"workloads that failed: {', '.join(data['errors'])}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
