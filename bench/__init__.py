"""mooncake's benchmark suite: side-by-side micro-benchmarks against the peers.

Run it from the repository root with ``python -m bench`` (``--quick`` for a
smoke run). See ``bench/README.md`` for what is measured and how.
"""
