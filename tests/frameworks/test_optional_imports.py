"""The frameworks are optional: ``import mooncake`` (and its shared tier) never imports them."""

import subprocess
import sys

import pytest

FRAMEWORKS = ("django", "flask", "flask_caching")


@pytest.mark.parametrize("module", ["mooncake", "mooncake.shared"])
def test_importing_mooncake_imports_no_framework(module):
    code = f"import sys, {module}; print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_flask_backends_import_no_redis_until_a_shared_one_is_made():
    code = "import sys, mooncake.flask; print('redis' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
