"""A description of the machine and software a run was made on."""

import os
import platform
import subprocess
import sys
import time

from . import peers


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=root, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _version(package):
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe():
    """A JSON-ready dict: CPU, cores, load, OS, Python, package versions, mooncake commit."""
    import mooncake

    from . import threads

    status = _git("status", "--porcelain")
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version,
        "python_implementation": platform.python_implementation(),
        "gil_enabled": threads.gil_enabled(),
        "mooncake_version": mooncake.__version__,
        "mooncake_accelerated": mooncake.ACCELERATED,
        "mooncake_commit": _git("rev-parse", "HEAD"),
        "mooncake_worktree_dirty": bool(status) if status is not None else None,
        "packages": {
            name: _version(name)
            for name in ("cachetools", "cachebox", "lru-dict", "prometheus_client", "pyperf",
                         "matplotlib", "psutil", "Cython")
        },
        "peer_versions": {p.name: p.version() for p in peers.ALL},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
