"""Build and test mooncake on every CPython from 3.9 to 3.13 found on the machine.

    pip install nox
    nox                        # every version found; missing ones are skipped
    nox -s tests-3.12          # one version
    nox -- -x -k reentrancy    # arguments after -- go to pytest

nox looks for ``python3.X`` on PATH. Interpreters installed with pyenv are not
on PATH unless a pyenv shim selects them, so this file appends every
``$PYENV_ROOT/versions/*/bin`` (default ``~/.pyenv``) to PATH first; other
installs (distribution packages, deadsnakes, uv) are found as usual. A version
that is not found is reported as skipped, not failed.
"""

import glob
import os

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
