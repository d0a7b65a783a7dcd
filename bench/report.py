"""The run's outputs: a Markdown report, a PNG bar chart and a JSON file of raw figures.

The docs site includes ``latest.md`` as it is (docs/benchmarks/), so every
figure the docs show comes from a run. ``render`` writes the Markdown again
from a ``latest.json`` without timing anything (``python -m bench --render``),
for when the writer changes but the figures do not.
"""

import json
import os

from . import peers, shared

PEER_NAMES = [p.name for p in peers.ALL]
BASELINE = "dict"
RIVAL = "cachebox.VTTLCache"


def _ns(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:,.2f} ms"
    if x >= 1e4:
        return f"{x / 1e3:,.1f} µs"
    return f"{x:,.1f}"


def _ratio(a, b):
    if a is None or not b:
        return "–"
    return f"{a / b:.2f}×"


def _median(entry):
    return entry["median_ns"] if entry else None


def _timed_rows(data):
    """``[(label, {peer: entry})]`` for every ns/op workload with a dict column."""
    rows = []
    for kind in ("str", "int"):
        for op, by_peer in data["micro"].get(kind, {}).items():
            rows.append((f"{op} ({kind})", by_peer))
    if "mix" in data:
        rows.append(("Zipf mix 90/10", data["mix"]["results"]))
    for n, by_peer in data.get("threads", {}).items():
        rows.append((f"mix, {n} thread{'s' if n != '1' else ''}", by_peer))
    return rows


def summary_table(data):
    """Rows: workloads; columns: ns/op per peer, then mooncake's ratios to dict and cachebox."""
    short = {"cachetools.TTLCache": "cachetools", "cachebox.VTTLCache": "cachebox"}
    head = ["workload (ns/op, median)"] + [short.get(p, p) for p in PEER_NAMES] + [
        "mooncake ×dict", "mooncake ×cachebox"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, by_peer in _timed_rows(data):
        cells = [_ns(_median(by_peer.get(p))) for p in PEER_NAMES]
        eng = _median(by_peer.get("mooncake"))
        cells += [_ratio(eng, _median(by_peer.get(BASELINE))), _ratio(eng, _median(by_peer.get(RIVAL)))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def detail_table(by_peer, extra=None):
    """Rows: peers; ns/op median, IQR, min-max, ratio to dict and to cachebox."""
    head = ["peer", "ns/op (median)", "IQR", "min–max", "×dict", "×cachebox"]
    if extra:
        head.append(extra[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = _median(by_peer.get(BASELINE))
    rival = _median(by_peer.get(RIVAL))
    for peer, e in by_peer.items():
        row = [peer, _ns(e["median_ns"]), f"{_ns(e['q1_ns'])}–{_ns(e['q3_ns'])}",
               f"{_ns(e['min_ns'])}–{_ns(e['max_ns'])}", _ratio(e["median_ns"], base),
               _ratio(e["median_ns"], rival)]
        if extra:
            row.append(extra[1].get(peer, "–"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def targets_table(targets):
    lines = ["| target | figure | limit | verdict |", "|---|---|---|---|"]
    for t in targets:
        fig = "–" if t.figure is None else f"{t.figure:,.2f} {t.unit}"
        if t.unit == "x cachebox":
            limit = "< 1 x cachebox"
        else:
            limit = f"{'≥' if t.at_least else '≤'} {t.limit:g} {t.unit}"
        note = f" ({t.note})" if t.note else ""
        lines.append(f"| {t.name} | {fig}{note} | {limit} | **{t.verdict}** |")
    return "\n".join(lines)


def versions_line(m):
    """``Peers: cachetools 8.0.2, ...`` from the machine description (``bench.machine``)."""
    peers_ = ", ".join(f"{name} {version}" for name, version in (m.get("peer_versions") or {}).items()
                       if name not in ("dict", "mooncake pure") and version)
    tools = ", ".join(f"{name} {version}" for name, version in (m.get("packages") or {}).items()
                      if version and name not in {p.split(".")[0] for p in PEER_NAMES})
    return f"Versions: {peers_}; tools: {tools}; {m.get('platform', '?')}."


def markdown(data, targets):
    m = data["machine"]
    cfg = data["config"]
    end = m.get("load_average_end")
    out = [
        "# mooncake benchmark results",
        "",
        f"{m['date']} · {m['cpu_model']}, {m['cpu_count']} cores · Python "
        f"{m['python'].split()[0]} ({'GIL' if m['gil_enabled'] else 'free-threaded'}) · "
        f"mooncake {m['mooncake_version']} @ {(m['mooncake_commit'] or '?')[:10]}"
        f"{' (dirty tree)' if m['mooncake_worktree_dirty'] else ''} · mode: {cfg['mode']} · "
        f"load average at start {', '.join(f'{x:.2f}' for x in m['load_average'] or [])}"
        + (f", at the end {', '.join(f'{x:.2f}' for x in end)}" if end else ""),
        "",
        versions_line(m),
        "",
        f"Command: `{cfg['command']}`. In-process harness: {cfg['rounds']} rounds, peers interleaved "
        "per round, loops calibrated per peer, GC off while timing, thread CPU time (wall time for "
        "the threaded mix); figures are medians of the "
        "rounds, ratios are taken between medians of the same run. ns/op includes the Python "
        "`for` loop around each call (about "
        f"{_ns(data['loop_overhead_ns'])} ns here); see bench/README.md.",
        "",
        *([f"**Failed workloads:** " + "; ".join(f"{k}: `{v}`" for k, v in data["errors"].items()), ""]
          if data.get("errors") else []),
        "## Summary",
        "",
        summary_table(data),
        "",
        "## Targets (issues #4 and #10)",
        "",
        targets_table(targets),
        "",
    ]
    for kind in ("str", "int"):
        micro = data["micro"].get(kind, {})
        if micro:
            out += [f"## Micro-operations, {cfg['n_keys']:,} {kind} keys", ""]
            for op, by_peer in micro.items():
                out += [f"### {op} ({kind} keys)", "", detail_table(by_peer), ""]
    if "mix" in data:
        mix = data["mix"]
        ratios = {p: f"{r:.3f}" for p, r in mix["hit_ratio"].items()}
        out += [
            f"## Zipf(0.99) mix: 90% get, 10% put, {cfg['mix_keys']:,} keys, cache bound "
            f"{cfg['mix_maxsize']:,}, {cfg['mix_ops']:,} ops a pass",
            "",
            "dict is unbounded: its hit ratio is the ceiling. Eviction: mooncake W-TinyLFU-SIEVE (its default), "
            "cachetools and lru-dict LRU, cachebox VTTLCache the nearest expiry (FIFO here, "
            "every put has the same TTL).",
            "",
            detail_table(mix["results"], ("hit ratio", ratios)),
            "",
        ]
    if data.get("threads"):
        out += ["## Threads running the mix (aggregate ns/op: wall time / total ops)", "",
                "On a GIL build only one thread runs Python code at a time, so more threads "
                "cannot lower these figures; they show what contention costs. cachetools runs "
                "each call under a `threading.Lock`, as its documentation requires.", ""]
        for n, by_peer in data["threads"].items():
            out += [f"### {n} thread{'s' if n != '1' else ''}", "", detail_table(by_peer), ""]
    if data.get("memory"):
        out += [f"## Memory per entry (RSS delta, {cfg['memory_n']:,} entries, str keys and "
                "float values allocated beforehand, one process per peer)", "",
                "| peer | bytes/entry | ×dict |", "|---|---|---|"]
        base = data["memory"].get(BASELINE, {}).get("bytes_per_entry")
        for peer, e in data["memory"].items():
            out.append(f"| {peer} | {e['bytes_per_entry']:.1f} | {_ratio(e['bytes_per_entry'], base)} |")
        out.append("")
    if data.get("cleanup"):
        names = list(next(iter(data["cleanup"].values())))
        out += [f"## cleanup_expired: {cfg['cleanup_k']:,} expired among n (one call; median, "
                "min–max)", "",
                "| n | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for n, by_peer in data["cleanup"].items():
            cells = [f"{_ns(e['median_ns'])} ({_ns(e['min_ns'])}–{_ns(e['max_ns'])})"
                     for e in by_peer.values()]
            out.append(f"| {int(n):,} | " + " | ".join(cells) + " |")
        out.append("")
    if data.get("monitor"):
        out += ["## Recording one operation", "",
                "| recorder | ns/op (median) | IQR | min–max | ×mooncake |", "|---|---|---|---|---|"]
        eng = _median(data["monitor"].get("mooncake"))
        for name, e in data["monitor"].items():
            out.append(f"| {name} | {_ns(e['median_ns'])} | {_ns(e['q1_ns'])}–{_ns(e['q3_ns'])} | "
                       f"{_ns(e['min_ns'])}–{_ns(e['max_ns'])} | {_ratio(e['median_ns'], eng)} |")
        out.append("")
    if data.get("shared"):
        out += shared.markdown(data["shared"])
    return "\n".join(out)


def chart(data, path):
    """A PNG: micro-ops and mix as ratio to dict, memory, cleanup scaling, monitor."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 9.5))
    colours = dict(zip(PEER_NAMES, plt.get_cmap("tab10").colors))

    ax = axes[0][0]
    rows = _timed_rows(data)
    width = 0.8 / len(PEER_NAMES)
    for i, peer in enumerate(PEER_NAMES):
        xs, ys = [], []
        for j, (_, by_peer) in enumerate(rows):
            e, base = by_peer.get(peer), by_peer.get(BASELINE)
            if e and base:
                xs.append(j + (i - len(PEER_NAMES) / 2 + 0.5) * width)
                ys.append(e["median_ns"] / base["median_ns"])
        ax.bar(xs, ys, width, label=peer, color=colours[peer])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([label for label, _ in rows], rotation=35, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_ylabel("time per op, × dict (log; lower is better)")
    ax.set_title("Per-operation cost relative to dict")
    ax.legend(fontsize=8, ncol=2)

    ax = axes[0][1]
    mem = data.get("memory", {})
    names = list(mem)
    ax.bar(range(len(names)), [mem[n]["bytes_per_entry"] for n in names],
           color=[colours.get(n, "grey") for n in names])
    ax.axhline(64, color="red", linestyle="--", linewidth=0.8, label="target: 64 B")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("bytes per entry beyond key and value (RSS)")
    ax.set_title("Memory per entry")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    cleanup = data.get("cleanup", {})
    if cleanup:
        ns = sorted(int(n) for n in cleanup)
        for peer in next(iter(cleanup.values())):
            ax.plot(ns, [cleanup[str(n)][peer]["median_ns"] / 1e6 for n in ns], marker="o",
                    label=peer, color=colours.get(peer, "grey"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("entries n")
        ax.set_ylabel("ms per call")
        ax.set_title(f"cleanup: {data['config']['cleanup_k']:,} expired among n")
        ax.legend(fontsize=8)

    ax = axes[1][1]
    mon = data.get("monitor", {})
    names = list(mon)
    ax.barh(range(len(names)), [mon[n]["median_ns"] for n in names],
            color=[colours.get(n, "tab:grey") for n in names])
    ax.axvline(150, color="red", linestyle="--", linewidth=0.8, label="target: 150 ns")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(left=10)
    ax.set_xlabel("ns per recorded operation (log)")
    ax.set_title("Recording one operation")
    ax.legend(fontsize=8)

    m = data["machine"]
    fig.suptitle(f"mooncake {m['mooncake_version']} · {m['cpu_model']} · Python "
                 f"{m['python'].split()[0]} · {data['config']['mode']} run", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


README_START = "<!-- headline: written by python -m bench from bench/results; do not edit -->"
README_END = "<!-- end of headline -->"
README_HITRATIO_START = ("<!-- hit ratio: written by python -m bench from bench/results; "
                         "do not edit -->")
README_HITRATIO_END = "<!-- end of hit ratio -->"
#: (row label, workload kind, operation) of the README's headline table.
HEADLINE_ROWS = (("get hit, str keys", "str", "get hit"), ("put overwrite, str keys", "str", "put overwrite"),
                 ("get hit, bounded cache", "str", "bounded get hit"))
HEADLINE_PEERS = ("mooncake", BASELINE, RIVAL, "cachetools.TTLCache")


def _async_line(data):
    """The async tier's headline sentence, from ``async.json``'s figures."""
    over = data["overhead"]["get (hit), 1 task"]
    near, throughput = data["near"], data["throughput"]["get (hit)"]
    ours = throughput["AsyncSharedMooncake"]["median_ns"]
    stampede = data["stampede"]
    return (f"Async tier (`python -m bench --only async`, loopback Valkey): a remote `await get` "
            f"costs {over['AsyncSharedMooncake']['median_ns'] / over['redis.asyncio']['median_ns']:.2f}x "
            f"raw redis.asyncio with pickle; with 100 tasks it reads "
            f"{throughput['aiocache']['median_ns'] / ours:.2f}x as fast as aiocache and "
            f"{throughput['cashews']['median_ns'] / ours:.2f}x as fast as cashews; a near hit takes "
            f"{near['AsyncSharedMooncake near hit']['median_ns']:.0f} ns "
            f"(`SimpleMooncake.get`: {near['SimpleMooncake.get']['median_ns']:.0f} ns, cashews' "
            f"client-side hit: {near['cashews client-side hit']['median_ns']:,.0f} ns); "
            f"{stampede['tasks_per_process']} tasks x {stampede['processes']} processes on one cold "
            f"memoized key: {stampede['computations']} computation"
            f"{'s' if stampede['computations'] != 1 else ''}.")


def headline(latest, hitratio=None, async_tier=None):
    """The README's headline figures, as Markdown, from ``latest.json`` (and
    ``hitratio.json``, ``async.json``)."""
    short = {"cachetools.TTLCache": "cachetools", "cachebox.VTTLCache": "cachebox"}
    m = latest["machine"]
    lines = [f"| last run: {m['date'][:10]}, {m['cpu_model']}, Python {m['python'].split()[0]} | "
             + " | ".join(short.get(p, p) for p in HEADLINE_PEERS) + " |",
             "|---|" + "---:|" * len(HEADLINE_PEERS)]
    for label, kind, op in HEADLINE_ROWS:
        by_peer = latest["micro"].get(kind, {}).get(op, {})
        lines.append(f"| {label} (ns, median) | "
                     + " | ".join(_ns(_median(by_peer.get(p))) for p in HEADLINE_PEERS) + " |")
    memory = latest.get("memory", {})
    lines.append("| memory per entry (bytes) | " + " | ".join(
        f"{memory[p]['bytes_per_entry']:.1f}" if p in memory else "–" for p in HEADLINE_PEERS) + " |")
    if hitratio:
        rows = [by_peer for by_c in hitratio["miss_ratio"].values() for by_peer in by_c.values()]

        def average(column):
            return sum(row[column] for row in rows) / len(rows)

        best = min(hitratio["peers"], key=average)
        lines += ["", f"Average miss ratio over the {len(rows)} hit-ratio rows (lower is better): "
                  f"mooncake {average('mooncake'):.4f}, the best peer ({best}) {average(best):.4f}, "
                  f"Belady's offline bound {average('Belady MIN'):.4f}."]
    if async_tier:
        lines += ["", _async_line(async_tier)]
    return "\n".join(lines)


def update_readme(results_dir, readme):
    """Rewrite the headline block (and the hit-ratio block, if there is one) of
    ``readme`` from the results in ``results_dir``; False (and nothing
    written) if the README has no headline block."""
    with open(os.path.join(results_dir, "latest.json")) as f:
        latest = json.load(f)
    hitratio = None
    if os.path.exists(os.path.join(results_dir, "hitratio.json")):
        with open(os.path.join(results_dir, "hitratio.json")) as f:
            hitratio = json.load(f)
    async_tier = None
    if os.path.exists(os.path.join(results_dir, "async.json")):
        with open(os.path.join(results_dir, "async.json")) as f:
            async_tier = json.load(f)["async"]
    with open(readme) as f:
        text = f.read()
    if README_START not in text or README_END not in text:
        return False
    text = _replace_block(text, README_START, README_END, headline(latest, hitratio, async_tier))
    if hitratio and README_HITRATIO_START in text and README_HITRATIO_END in text:
        from . import hitratio as hitratio_tables

        text = _replace_block(text, README_HITRATIO_START, README_HITRATIO_END,
                              hitratio_tables.readme_section(hitratio))
    with open(readme, "w") as f:
        f.write(text)
    return True


def _replace_block(text, start_mark, end_mark, body):
    start, end = text.index(start_mark) + len(start_mark), text.index(end_mark)
    return text[:start] + "\n" + body + "\n" + text[end:]


def render(out_dir):
    """Write ``latest.md`` in ``out_dir`` again from its ``latest.json``; returns the Markdown."""
    import types

    with open(os.path.join(out_dir, "latest.json")) as f:
        data = json.load(f)
    targets = [types.SimpleNamespace(**{**t, "name": t["target"]}) for t in data.get("targets", [])]
    text = markdown(data, targets)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text + "\n")
    return text


def write(data, targets, out_dir):
    """Write ``latest.md``, ``latest.png`` and ``latest.json`` into ``out_dir``; returns the Markdown."""
    os.makedirs(out_dir, exist_ok=True)
    data = dict(data, targets=[t.to_json() for t in targets])
    text = markdown(data, targets)
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    chart(data, os.path.join(out_dir, "latest.png"))
    return text
