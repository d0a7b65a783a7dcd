"""Memory per entry: RSS growth while one peer takes ``n`` entries, in a fresh process.

Run as ``python -m bench.memory PEER N``. The child allocates the ``n`` string
keys and ``n`` float values first, collects garbage, reads its resident set
size, stores every pair with the peer's own put call, and reads it again. The
difference divided by ``n`` is what the container costs per entry beyond the
key and value objects (allocator slack and over-allocation included: that is
what the process pays). A process per peer keeps one peer's freed memory from
being reused by the next.
"""

import gc
import json
import os
import subprocess
import sys


def rss_bytes():
    """Resident set size of this process, in bytes (Linux /proc, else psutil)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss


def _child(peer_name, n):
    from . import harness, peers

    peer = {p.name: p for p in peers.ALL}[peer_name]
    keys = [f"key:{i}" for i in range(n)]
    values = [i + 0.5 for i in range(n)]
    pairs = list(zip(keys, values))
    fill = harness.compile_loop(peer.put, target="k, v")
    c = peer.make(None)
    gc.collect()
    gc.disable()
    before = rss_bytes()
    fill(c, pairs, None, 1)
    after = rss_bytes()
    assert len(c) == n
    return {"peer": peer_name, "n": n, "rss_before": before, "rss_after": after,
            "bytes_per_entry": (after - before) / n}


def per_entry(peer_name, n):
    """Run the measurement for ``peer_name`` in a fresh interpreter; returns its dict."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-m", "bench.memory", peer_name, str(n)],
                         capture_output=True, text=True, check=True, env=env, cwd=root)
    return json.loads(out.stdout)


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], int(sys.argv[2]))))
