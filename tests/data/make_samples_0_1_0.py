"""Wrote the sample pickles in this folder, run at commit 53728fc (mooncake 0.1.0, before the
source tree was split into folders): `python tests/data/make_samples_0_1_0.py tests/data`.
Kept to show what the samples hold; tests/test_import_paths.py loads them."""
import os, pickle, sys
os.environ.pop("MOONCAKE_PURE_PYTHON", None)
import mooncake._cache as c_cache, mooncake._monitor as c_mon
import mooncake.pure.cache as p_cache, mooncake.pure.monitor as p_mon
from mooncake.removal import RemovalReason
out = sys.argv[1]
for name, mod in (("c", c_cache), ("py", p_cache)):
    cache = mod.SimpleMooncake(100, access_log_size=5)
    cache.put("a", 1, ttl=1e9); cache.put(2, [1, 2], ttl=float("inf")); cache.put(("t", 3), {"x": b"y"})
    cache.get("a"); cache.get("missing")
    with open(f"{out}/cache-0.1.0-{name}.pickle", "wb") as f:
        pickle.dump(cache, f, protocol=2)
for name, mod in (("c", c_mon), ("py", p_mon)):
    mon = mod.SimpleMonitor(max_metrics=10)
    for i in range(5):
        mon.record_operation("get", 0.001 * (i + 1), success=i != 3, data_size=i)
    mon.record_operation("put", 0.5, success=True, data_size=100)
    with open(f"{out}/monitor-0.1.0-{name}.pickle", "wb") as f:
        pickle.dump(mon, f, protocol=2)
    with open(f"{out}/metrics-0.1.0-{name}.pickle", "wb") as f:
        pickle.dump(list(mon.metrics), f, protocol=2)
with open(f"{out}/removal-reason-0.1.0.pickle", "wb") as f:
    pickle.dump([RemovalReason.EXPIRED, RemovalReason.EVICTED], f, protocol=2)
