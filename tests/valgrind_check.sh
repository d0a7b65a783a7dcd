#!/usr/bin/env bash
# Run the re-entrancy, refcount and hostile-input tests under valgrind memcheck.
#
#   tests/valgrind_check.sh                  # the default test selection
#   tests/valgrind_check.sh -k reentrancy    # extra arguments go to pytest
#
# Not part of CI (it takes minutes). It installs the package (normal -O3
# build) and its test extra into a private venv built from a temporary copy of
# the tree, so your in-place build and .venv are not touched. PYTHONMALLOC=malloc sends every allocation through malloc, where
# memcheck can see it. Leak checking is off: CPython does not free everything
# at exit; leaks are the soak test's job (tests/cache/test_soak.py).
#
# Exit status: 0 clean; 99 memcheck found errors (see the log it prints);
# otherwise pytest's own status. tests/valgrind-python.supp holds the
# suppressions: one, for a glibc wmemcmp over-read (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
# CPython 3.11.7 itself is not memcheck-clean: _PyLong_FromByteArray reads an
# uninitialised digit for int.from_bytes(b"..."), on every start-up (importlib
# reads .pyc headers with it), and the tainted small int then trips reports all
# over ceval that no narrow suppression can cover. 3.10, 3.12 and 3.13 are clean,
# so prefer the newest of those found; PYTHON=... overrides.
if [[ -z "${PYTHON:-}" ]]; then
    PYTHON=python3
    for candidate in python3.13 python3.12 python3.10 \
            "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[320]*/bin/python3; do
        # (a pyenv shim exists for every version but runs only the selected ones)
        if "$candidate" -c 'import sys; assert sys.version_info[:2] != (3, 11)' 2>/dev/null; then
            PYTHON=$candidate; break
        fi
    done
fi
command -v valgrind >/dev/null || { echo "valgrind_check: valgrind is not installed" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mooncake-valgrind.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/tree"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$REPO" ls-files -z -co --exclude-standard | (cd "$REPO" && xargs -0 cp --parents -t "$WORK/tree")
else
    tar -C "$REPO" --exclude=./.venv --exclude=./.nox --exclude=./build --exclude='*.so' -cf - . | tar -C "$WORK/tree" -xf -
fi
# Its own venv (Cython, pytest, hypothesis come with the package's test extra).
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet --upgrade pip
(cd "$WORK/tree" && "$VPY" -m pip install --quiet '.[test]')
# The real interpreter, not a wrapper script: valgrind must start the Python
# process itself (it does not follow an exec by default).
VPY=$("$VPY" -c 'import sys, os; print(os.path.realpath(sys.executable))')
VSITE=$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

if [[ $# -eq 0 ]]; then
    set -- tests/cache/test_reentrancy.py tests/cache/test_hostile.py
fi
LOG=${VALGRIND_LOG:-${TMPDIR:-/tmp}/mooncake-valgrind-memcheck.log}
START=$(date +%s)
set +e
(
    cd "$WORK/tree"
    # realpath'd interpreter: tell it where the venv's packages are.
    export PYTHONPATH="$VSITE" PYTHONMALLOC=malloc
    export HYPOTHESIS_PROFILE=dev MOONCAKE_HOSTILE_EXAMPLES="${MOONCAKE_HOSTILE_EXAMPLES:-15}"
    exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=no \
        --suppressions="$REPO/tests/valgrind-python.supp" --num-callers=40 \
        --log-file="$LOG" \
        "$VPY" -m pytest -p no:cacheprovider -q "$@"
)
STATUS=$?
set -e
SUMMARY=$(grep -h 'ERROR SUMMARY' "$LOG" | tail -1 | sed 's/^==[0-9]*== //')
if [[ -z "$SUMMARY" ]]; then
    echo "valgrind_check: memcheck wrote no summary; did it run Python itself? see $LOG" >&2
    exit 2
fi
echo "valgrind_check: $SUMMARY" >&2
echo "valgrind_check: exit $STATUS in $(( $(date +%s) - START ))s; full log in $LOG; interpreter $PYTHON" >&2
exit "$STATUS"
