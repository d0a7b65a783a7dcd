"""Fetch Django's and Flask-Caching's own cache test suites, for the acceptance tests.

Neither framework ships its tests in its wheel, but both sdists on PyPI carry
them. So this module downloads the sdist of the release that is installed
(``pip download --no-binary :all: --no-deps``: pip checks the file against the
index's hash), and extracts the few files the acceptance tests import, verbatim,
with the project's LICENSE beside them. They are kept under ``_suites/``
(git-ignored; ``MOONCAKE_SUITES_DIR`` moves it), one folder per release, so a
second run downloads nothing and an upgrade of the framework brings its own
tests. Fetching, rather than vendoring the files, keeps other projects' code
out of this repository and always tests the backends against the contract of
the framework release they run with.

    python tests/frameworks/fetch_suites.py      # fetch both now (the tests do it themselves)
"""

import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

SUITES = pathlib.Path(os.environ.get("MOONCAKE_SUITES_DIR") or pathlib.Path(__file__).with_name("_suites"))

#: What each suite needs from its sdist: path in the sdist -> path in our folder.
#: Each suite becomes a package whose name cannot clash with this repository's
#: test packages (Django's own is called ``cache``, as one of ours is).
DJANGO_FILES = {
    "LICENSE": "LICENSE",
    "tests/cache/__init__.py": "django_cache_suite/__init__.py",
    "tests/cache/models.py": "django_cache_suite/models.py",
    "tests/cache/tests.py": "django_cache_suite/tests.py",
}
FLASK_CACHING_FILES = {
    "LICENSE": "LICENSE",
    "tests/test_backend_cache.py": "flask_caching_suite/test_backend_cache.py",
    "tests/test_cache.py": "flask_caching_suite/test_cache.py",
    "tests/test_memoize.py": "flask_caching_suite/test_memoize.py",
    "tests/test_view.py": "flask_caching_suite/test_view.py",
    "tests/test_template.html": "flask_caching_suite/test_template.html",
    "tests/test_stream.html": "flask_caching_suite/test_stream.html",
}


class SuiteUnavailable(RuntimeError):
    """The sdist could not be downloaded or lacks a file the tests need."""


def fetch(project, version, files, package):
    """The folder holding ``files`` of ``project``'s sdist at ``version`` (fetched once),
    with ``package``/__init__.py present so the suite imports as ``package``."""
    target = SUITES / f"{project}-{version}"
    done = target / ".complete"
    if done.exists():
        return target
    SUITES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=SUITES) as tmp:
        tmp = pathlib.Path(tmp)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                   "--no-binary", ":all:", f"{project}=={version}", "--dest", str(tmp / "sdist")]
        # pip is not under test: keep a sanitizer run's preloads away from it.
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "PYTHONMALLOC")}
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise SuiteUnavailable(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        (sdist,) = (tmp / "sdist").glob("*.tar.gz")
        staging = tmp / "suite"
        with tarfile.open(sdist) as archive:
            top = archive.getnames()[0].split("/")[0]
            for source, dest in files.items():
                try:
                    member = archive.extractfile(f"{top}/{source}")
                except KeyError:
                    member = None
                if member is None:
                    raise SuiteUnavailable(f"{sdist.name} has no {source}")
                path = staging / dest
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(member.read())
        init = staging / package / "__init__.py"
        if not init.exists():
            init.write_text("")
        (staging / "ORIGIN").write_text(
            f"Extracted verbatim from {sdist.name} on PyPI by tests/frameworks/fetch_suites.py;\n"
            f"the project's license is in LICENSE. {package}/__init__.py is ours when the sdist has none.\n")
        (staging / ".complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def django_suite():
    """The folder to put on sys.path to import ``django_cache_suite.tests``."""
    return fetch("django", importlib.metadata.version("django"), DJANGO_FILES, "django_cache_suite")


def flask_caching_suite():
    """The folder to put on sys.path to import ``flask_caching_suite.test_*``."""
    return fetch("flask-caching", importlib.metadata.version("flask-caching"), FLASK_CACHING_FILES,
                 "flask_caching_suite")


def on_path(folder):
    """Put a fetched suite's folder first on sys.path; return it."""
    folder = str(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return folder


if __name__ == "__main__":
    print(django_suite())
    print(flask_caching_suite())
