"""The package surface: import paths, engine selection, typing stub."""

import ast
import importlib.metadata
import os
import pathlib
import subprocess
import sys

import mooncake
import pytest
from conftest import PURE_ONLY

PACKAGE = pathlib.Path(mooncake.__file__).parent


def run_python(code, **env):
    environ = {k: v for k, v in os.environ.items() if k != "MOONCAKE_PURE_PYTHON"}
    environ.update(env)
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True)
    return done


def test_original_module_paths_still_work():
    from mooncake.core.simple_mooncake import SimpleMooncake
    from mooncake.monitoring.simple_monitor import PerformanceMetrics, SimpleMonitor

    assert SimpleMooncake is mooncake.SimpleMooncake
    assert SimpleMonitor is mooncake.SimpleMonitor
    assert PerformanceMetrics is mooncake.PerformanceMetrics


@pytest.mark.skipif(PURE_ONLY, reason="checks the compiled build")
def test_default_import_uses_the_compiled_engine():
    assert mooncake.ACCELERATED is True
    assert mooncake.SimpleMooncake.__module__ == "mooncake.cache._engine"


def test_environment_variable_selects_the_pure_twin():
    done = run_python(
        "import mooncake; print(mooncake.ACCELERATED, mooncake.SimpleMooncake.__module__)",
        MOONCAKE_PURE_PYTHON="1",
    )
    assert done.stdout.split() == ["False", "mooncake.cache.twin"], done.stderr


def test_missing_extension_is_an_import_error_that_says_how_to_build():
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'mooncake.cache._engine':\n"
        "            raise ImportError('simulated missing build')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import mooncake\n"
    )
    done = run_python(blocker)
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert "pip install ." in done.stderr and "MOONCAKE_PURE_PYTHON=1" in done.stderr


def test_package_ships_typing_marker_and_stub():
    assert (PACKAGE / "py.typed").exists()
    assert (PACKAGE / "cache" / "_engine.pyi").exists()


def test_stub_names_every_public_method_of_the_engine(cache_cls):
    stub = ast.parse((PACKAGE / "cache" / "_engine.pyi").read_text())
    (cls,) = [n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "SimpleMooncake"]
    stubbed = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    public = {name for name in dir(cache_cls) if not name.startswith("_")}
    assert public <= stubbed


def test_version_is_the_one_the_package_metadata_carries():
    try:
        installed = importlib.metadata.version("mooncake")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("mooncake is imported from a source tree, not installed")
    assert mooncake.__version__ == installed
