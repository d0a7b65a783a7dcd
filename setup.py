"""Build the Cython engines of mooncake.

Environment variables read at build time:

MOONCAKE_PURE_PYTHON=1   build no extension; the package then runs its pure-Python twin
                         (and must be imported with the same variable set).
MOONCAKE_WERROR=1        turn compiler warnings into errors (CI sets it).
MOONCAKE_SANITIZE=LIST   compile and link with -fsanitize=LIST, e.g. "address,undefined".
"""

import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def compile_args():
    args = ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
    if os.environ.get("MOONCAKE_WERROR") == "1":
        args.append("-Werror")
    return args


def sanitizer_args():
    wanted = os.environ.get("MOONCAKE_SANITIZE", "").strip()
    if not wanted:
        return []
    return [f"-fsanitize={wanted}", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]


def extensions():
    if os.environ.get("MOONCAKE_PURE_PYTHON") == "1":
        return []
    sources = sorted(glob.glob("src/mooncake/*.pyx"))
    if not sources:
        # An sdist without the .pyx once built a pure wheel that could not be imported.
        raise SystemExit("setup.py: no src/mooncake/*.pyx to build; set MOONCAKE_PURE_PYTHON=1 "
                         "to build the pure-Python package on purpose")
    sanitize = sanitizer_args()
    return [
        Extension(
            "mooncake." + os.path.splitext(os.path.basename(path))[0],
            [path],
            include_dirs=["csrc"],
            extra_compile_args=compile_args() + sanitize,
            extra_link_args=sanitize,
            depends=glob.glob("csrc/*.h") + glob.glob("src/mooncake/*.pxd"),
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
            include_path=["src/mooncake"],
        )
        ext.sources = translated.sources
        super().build_extension(ext)


setup(ext_modules=extensions(), cmdclass={"build_ext": CythonizeThenBuildExt})
