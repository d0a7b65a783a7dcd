"""``mypy --strict`` over ``usage.py``: the public API is typed, and precisely.

Each ``reveal_type(...)  # revealed: T`` line in usage.py must be revealed as
exactly ``T``; any mypy error fails. ``usage.py`` also runs as a script, so the
calls it type-checks are real ones.
"""

import os
import pathlib
import re
import subprocess
import sys

USAGE = pathlib.Path(__file__).with_name("usage.py")
NOTE = re.compile(r'^usage\.py:(\d+): note: Revealed type is "(.*)"$')


def expected_reveals():
    return {
        number: line.split("# revealed: ", 1)[1]
        for number, line in enumerate(USAGE.read_text().splitlines(), 1)
        if "reveal_type(" in line and "# revealed: " in line
    }


def test_mypy_strict_passes_on_the_usage_file_with_the_types_it_expects(tmp_path):
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "mypy-cache"))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
         "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}", USAGE.name],
        cwd=USAGE.parent, env=env, capture_output=True, text=True,
    )
    revealed, other = {}, []
    for line in done.stdout.splitlines():
        match = NOTE.match(line)
        if match:
            revealed[int(match[1])] = match[2]
        elif line.strip():
            other.append(line)
    assert other == [], done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    assert revealed == expected_reveals()


def test_usage_file_runs():
    from mooncake.shared.local_server import LocalValkey

    with LocalValkey() as server:  # the shared tier's calls run against a real server
        env = dict(os.environ, MOONCAKE_URL=server.url)
        done = subprocess.run([sys.executable, str(USAGE)], capture_output=True, text=True, env=env,
                              timeout=120)
    assert done.returncode == 0, done.stderr
