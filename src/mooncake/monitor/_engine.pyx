# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
"""The monitor engine: per-operation aggregates, log-linear histograms, a ring buffer of records.

Same contract, docstrings and results as the pure-Python twin
``mooncake.monitor.twin`` (the reference model); the histogram layout and the
percentile definition are documented in ``mooncake.monitor.histogram``.

Implementation notes:

- ``record_operation`` validates every argument and reads the clock before it
  takes the lock, so an error leaves the monitor unchanged and no Python code
  (a ``__bool__``, a user clock) runs while the tables are half-updated.
- The history is a ring of plain C records (two doubles, the size, the
  operation's id and the success flag): recording copies 32 bytes and never
  touches a Python object. ``PerformanceMetrics`` objects are built only when
  read, from records first copied out under the lock.
- No ``PyObject*`` is stored in C memory: operation names live in ``_names``
  (a list, id -> name) and ``_ids`` (a dict, name -> id), so ownership is the
  list's and the dict's. ``reset_metrics`` replaces both with new objects, so
  a reader that took the old list under the lock can still use it afterwards.
- A histogram's counters for one power of two (64 of them) are allocated the
  first time a duration lands there, before anything else changes, so a
  ``MemoryError`` leaves the monitor as it was.
- Every method touching the tables runs inside ``cython.critical_section(self)``:
  a no-op with the GIL (no Python code runs inside), a per-object lock on a
  free-threaded build.
"""

cimport cython
from cpython.dict cimport PyDict_GetItem
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsDouble, PyLong_AsSsize_t, PyLong_AsUnsignedLongLong
from cpython.number cimport PyNumber_AsSsize_t
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyObject_IsTrue
from cpython.slice cimport PySlice_AdjustIndices, PySlice_Unpack
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.unicode cimport PyUnicode_FromObject
from libc.float cimport DBL_MAX
from libc.math cimport INFINITY, ldexp
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

import copyreg
import threading

from mooncake.monitor import histogram as _layout
from mooncake.checks import clock_seconds
from mooncake.monitor.arguments import OTHER_OPERATION, check_max_metrics, check_max_operations
from mooncake.monitor.tracking import Track
from mooncake.monitor.views import MetricsView, OperationStatsView
from mooncake.monitor.metrics import PerformanceMetrics
from mooncake.monitor.prometheus import render_text

__all__ = ["MonitorLock", "PerformanceMetrics", "SimpleMonitor"]

from mooncake._csupport cimport mc_enter_user_code, mc_leave_user_code, mc_wallclock

# One module, compiled from these parts (the structs and the classes' C
# attributes are declared in _engine.pxd).
include "histogram.pxi"
include "arguments.pxi"
include "lock.pxi"
include "operations.pxi"
include "history.pxi"
include "simple_monitor.pxi"
