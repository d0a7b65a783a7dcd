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
