"""The engine's speed and memory targets (set by the performance rounds, issues #4 and
#10: each is a ratio against dict or a peer, or bytes per entry), checked against one run's figures."""

from . import shared


class Target:
    """One target: ``figure`` against ``limit``; it passes when ``figure <= limit``
    (``figure >= limit`` when ``at_least``)."""

    def __init__(self, name, figure, limit, unit, at_least=False, note=""):
        self.name = name
        self.figure = figure
        self.limit = limit
        self.unit = unit
        self.at_least = at_least
        self.note = note

    @property
    def passed(self):
        if self.figure is None:
            return None
        return self.figure >= self.limit if self.at_least else self.figure <= self.limit

    @property
    def verdict(self):
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]

    def to_json(self):
        return {"target": self.name, "figure": self.figure, "limit": self.limit,
                "unit": self.unit, "at_least": self.at_least, "verdict": self.verdict,
                "note": self.note}


def _median(results, workload, peer):
    entry = results.get(workload, {}).get(peer)
    return entry["median_ns"] if entry else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def check(data):
    """``[Target]`` from the run's JSON-ready ``data``."""
    out = []
    for kind in ("str", "int"):
        micro = data["micro"].get(kind, {})
        limits = {"get hit": 1.5, "get miss": 1.5, "put overwrite": 2.5, "put new + delete": 2.5}
        for op, limit in {**limits, "bounded get hit": 1.5}.items():
            eng = _median(micro, op, "mooncake")
            out.append(Target(f"{op} ({kind} keys) vs dict", _ratio(eng, _median(micro, op, "dict")),
                              limit, "x dict"))
        for op in limits:
            eng = _median(micro, op, "mooncake")
            ratio = _ratio(eng, _median(micro, op, "cachebox.VTTLCache"))
            out.append(Target(f"{op} ({kind} keys) faster than cachebox.VTTLCache", ratio,
                              1.0 - 1e-9, "x cachebox"))
        pure = _ratio(_median(micro, "get hit", "mooncake pure"), _median(micro, "get hit", "mooncake"))
        out.append(Target(f"get hit ({kind} keys) speed-up over the pure twin", pure, 20.0,
                          "x faster", at_least=True))
    mem = data.get("memory", {}).get("mooncake")
    out.append(Target("memory per entry beyond key and value",
                      mem["bytes_per_entry"] if mem else None, 64.0, "bytes",
                      note=f"RSS delta over {mem['n']:,} entries" if mem else ""))
    cleanup = data.get("cleanup", {})
    if cleanup:
        n = max(int(key) for key in cleanup)
        entry = cleanup[str(n)].get("mooncake")
        k = data["config"]["cleanup_k"]
        out.append(Target(f"cleanup_expired, {k:,} expired among {n:,}",
                          entry["median_ns"] / 1e6 if entry else None, 2.0, "ms",
                          note="" if n >= 1_000_000 else "quick mode: smaller n than the target's 1,000,000"))
    rec = data.get("monitor", {}).get("mooncake")
    out.append(Target("record_operation", rec["median_ns"] if rec else None, 150.0, "ns"))
    for (clock, topology, row), ratio in shared.ratios(data.get("shared", {})).items():
        if clock == "wall":
            out.append(Target(f"SharedMooncake {row}, {topology}, vs raw redis-py", ratio, 1.10,
                              "x redis-py", note="wall time"))
    return out
