"""Build the Cython engines of mooncake.

Environment variables read at build time:

MOONCAKE_PURE_PYTHON=1   build no extension; the package then runs its pure-Python twin
                         (and must be imported with the same variable set).
MOONCAKE_WERROR=1        turn compiler warnings into errors (CI sets it).
MOONCAKE_SANITIZE=LIST   compile and link with -fsanitize=LIST, e.g. "address,undefined".
MOONCAKE_DEBUG=1         keep debug info in the compiled modules and define MC_DEBUG=1, which
                         compiles in the cache engine's invariant checker
                         (SimpleMooncake._check_invariants). Without it (and without
                         MOONCAKE_SANITIZE) a build is a release build: no debug info.
"""

import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def compile_args():
    args = ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    if os.environ.get("MOONCAKE_WERROR") == "1":
        args.append("-Werror")
    if release_build():
        args.append("-g0")  # comes after Python's own CFLAGS (which carry -g), so it wins
    return args


def link_args():
    # Drop what debug info other objects bring; keep the symbol table, so
    # backtraces in gdb, perf and valgrind still name our functions.
    return ["-Wl,--strip-debug"] if release_build() else []


def release_build():
    return os.environ.get("MOONCAKE_DEBUG") != "1" and not sanitizer_args()


def debug_macros():
    return [("MC_DEBUG", "1")] if os.environ.get("MOONCAKE_DEBUG") == "1" else []


def sanitizer_args():
    wanted = os.environ.get("MOONCAKE_SANITIZE", "").strip()
    if not wanted:
        return []
    return [f"-fsanitize={wanted}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]


def extensions():
    if os.environ.get("MOONCAKE_PURE_PYTHON") == "1":
        return []
    sources = sorted(glob.glob("src/mooncake/**/*.pyx", recursive=True))
    if not sources:
        # An sdist without the .pyx once built a pure wheel that could not be imported.
        raise SystemExit("setup.py: no .pyx under src/mooncake to build; set MOONCAKE_PURE_PYTHON=1 "
                         "to build the pure-Python package on purpose")
    sanitize = sanitizer_args()
    return [
        Extension(
            # src/mooncake/cache/_engine.pyx -> mooncake.cache._engine
            os.path.splitext(os.path.relpath(path, "src"))[0].replace(os.sep, "."),
            [path],
            include_dirs=["csrc"],
            define_macros=debug_macros(),
            extra_compile_args=compile_args() + sanitize,
            extra_link_args=link_args() + sanitize,
            depends=glob.glob("csrc/*.h") + glob.glob(os.path.join(os.path.dirname(path), "*.pxi"))
            + glob.glob("src/mooncake/**/*.pxd", recursive=True),
        )
        for path in sources
    ]


class CythonizeThenBuildExt(build_ext):
    """Translate each .pyx to C just before compiling it.

    So making an sdist never runs Cython, and the sdist carries the .pyx, not
    generated C (which would tie it to one Cython's idea of the C API).
    """

    def build_extension(self, ext):
        from Cython.Build import cythonize

        (translated,) = cythonize(
            [ext],
            compiler_directives={"language_level": "3"},
            include_path=["src"],
        )
        ext.sources = translated.sources
        super().build_extension(ext)

    def build_extensions(self):
        if release_build() and hasattr(self.compiler, "linker_so"):
            # Interpreters built with an rpath (pyenv's are) pass it on in
            # LDSHARED. Our modules need no library of theirs, and in a wheel
            # that path would only send the loader to the build machine's dirs.
            self.compiler.linker_so = [arg for arg in self.compiler.linker_so
                                       if not arg.startswith("-Wl,-rpath")]
        super().build_extensions()


setup(ext_modules=extensions(), cmdclass={"build_ext": CythonizeThenBuildExt})
