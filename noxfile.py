"""Build and test mooncake on every CPython from 3.9 to 3.13 found on the machine.

    pip install nox
    nox                        # every version found; missing ones are skipped
    nox -s tests-3.12          # one version
    nox -- -x -k reentrancy    # arguments after -- go to pytest
    nox -s wheels              # dist/: the sdist and a tested manylinux wheel per version
    nox -s frameworks          # the Django/Flask-Caching backends on Django 5.2 LTS and the current Django

nox looks for ``python3.X`` on PATH. Interpreters installed with pyenv are not
on PATH unless a pyenv shim selects them, so this file appends every
``$PYENV_ROOT/versions/*/bin`` (default ``~/.pyenv``) to PATH first; other
installs (distribution packages, deadsnakes, uv) are found as usual. A version
that is not found is reported as skipped, not failed.
"""

import glob
import os
import pathlib
import shutil

import nox

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = False


def _add_pyenv_to_path():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    path = os.environ.get("PATH", "").split(os.pathsep)
    for bindir in sorted(glob.glob(os.path.join(root, "versions", "*", "bin"))):
        if bindir not in path:
            path.append(bindir)  # after the user's own PATH: theirs wins
    os.environ["PATH"] = os.pathsep.join(path)


_add_pyenv_to_path()


@nox.session(python=PYTHONS)
def tests(session):
    """Build the extensions (warnings are errors) and run the whole test suite."""
    session.env["MOONCAKE_WERROR"] = "1"
    session.env.pop("MOONCAKE_PURE_PYTHON", None)
    session.install(".[test]")
    # The installed package is imported (src/ is not on sys.path), and conftest
    # imports the compiled modules first, so a broken build fails the session.
    session.run("python", "-c", "import mooncake, sys; assert mooncake.ACCELERATED; print(sys.version)")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *session.posargs)


@nox.session(python="3.12")
@nox.parametrize("django", ["5.2", "current"])
def frameworks(session, django):
    """The framework backends' tests (their frameworks' own suites included) on one
    Django release: 5.2 LTS, or the current release (6.x needs Python 3.12 or later).
    The default test run covers the newest Django its interpreter takes."""
    session.install(".[test]")
    session.install("django>=5.2,<6" if django == "5.2" else "django>=6")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/frameworks",
                *session.posargs)


@nox.session(python=PYTHONS)
def wheels(session):
    """Build the sdist and from it this version's wheel, repair that into dist/
    as a manylinux wheel, and run the test suite against it installed.

    The tests run from a copy of tests/ in a temporary directory, so the
    installed wheel is what they import, never src/.
    """
    session.env["MOONCAKE_WERROR"] = "1"
    for name in ("MOONCAKE_PURE_PYTHON", "MOONCAKE_DEBUG", "MOONCAKE_SANITIZE"):
        session.env.pop(name, None)  # a release build, accelerated
    session.install(*nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), "release"))

    root = pathlib.Path.cwd()
    dist = root / "dist"
    tmp = pathlib.Path(session.create_tmp())
    built = tmp / "built"
    shutil.rmtree(built, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(built))
    (sdist,) = built.glob("*.tar.gz")
    (wheel,) = built.glob("*.whl")

    tag = session.run("python", "-c", "import sys; print('cp%d%d' % sys.version_info[:2])", silent=True).strip()
    dist.mkdir(exist_ok=True)
    for stale in dist.glob(f"*-{tag}-{tag}-*.whl"):
        stale.unlink()
    shutil.copy2(sdist, dist)
    session.run("auditwheel", "repair", "--wheel-dir", str(dist), str(wheel))
    (repaired,) = dist.glob(f"*-{tag}-{tag}-*manylinux*.whl")
    session.run("twine", "check", "--strict", str(dist / sdist.name), str(repaired))

    session.install(f"{repaired}[test]")
    suite = tmp / "suite"
    shutil.rmtree(suite, ignore_errors=True)
    shutil.copytree(root / "tests", suite / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(root / "pyproject.toml", suite)  # pytest's settings
    session.chdir(suite)
    session.run("python", "-c", _CHECK_INSTALLED)
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *session.posargs)


# mooncake must come from the venv's site-packages, compiled, with one version.
_CHECK_INSTALLED = """
import importlib.metadata, pathlib, sys, sysconfig
import mooncake
site = pathlib.Path(sysconfig.get_paths()["platlib"]).resolve()
found = pathlib.Path(mooncake.__file__).resolve()
assert site in found.parents, f"mooncake was imported from {found}, not from {site}"
assert mooncake.ACCELERATED and mooncake.SimpleMooncake.__module__ == "mooncake.cache._engine"
assert mooncake.__version__ == importlib.metadata.version("mooncake"), "two versions"
print(f"mooncake {mooncake.__version__} from {found.parent} on {sys.version.split()[0]}")
"""
