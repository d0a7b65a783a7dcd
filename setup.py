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
    from Cython.Build import cythonize

    sanitize = sanitizer_args()
    modules = [
        Extension(
            "mooncake." + os.path.splitext(os.path.basename(path))[0],
            [path],
            include_dirs=["csrc"],
            extra_compile_args=compile_args() + sanitize,
            extra_link_args=sanitize,
            depends=glob.glob("csrc/*.h") + glob.glob("src/mooncake/*.pxd"),
        )
        for path in sorted(glob.glob("src/mooncake/*.pyx"))
    ]
    return cythonize(
        modules,
        compiler_directives={"language_level": "3"},
        include_path=["src/mooncake"],
    )


setup(ext_modules=extensions())
