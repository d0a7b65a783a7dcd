# get and put, parsed by hand for their common call shapes.
#
# Implementation note: Cython's generic argument parsing takes a new
# reference to every argument and hands keyword names to a general routine:
# in callgrind, about 45 instructions of a get's 460 and 100 of a
# put(k, v, ttl=...)'s 865. These two calls are the cache, so get(k),
# get(k, default), put(k, v), put(k, v, ttl) and put(k, v, ttl=...) on an
# unmonitored cache are parsed here, with borrowed references. Every other
# call (other keywords, wrong counts, a monitor) goes to the function Cython
# generated for the method, unchanged: it stays the reference for behaviour and
# error messages. The descriptors keep the generated names and docstrings;
# a subclass that overrides get or put overrides these as it would the others.

cdef object _METHOD_DESCRIPTOR = type(str.join)

cdef extern from "Python.h":
    int METH_FASTCALL
    int METH_KEYWORDS
    ctypedef struct PyMethodDef:
        const char *ml_name
        void *ml_meth
        int ml_flags
        const char *ml_doc
    ctypedef struct PyMethodDescrObject:
        PyMethodDef *d_method
    ctypedef struct PyTypeObject:
        PyObject *tp_dict
    object PyDescr_NewMethod(PyTypeObject *type, PyMethodDef *meth)
    void PyType_Modified(PyTypeObject *type)
    Py_ssize_t PyTuple_GET_SIZE(PyObject *p)
    PyObject *PyTuple_GET_ITEM(PyObject *p, Py_ssize_t pos)

ctypedef PyObject *(*_fastcall)(PyObject *, PyObject **, Py_ssize_t, PyObject *) except NULL

cdef PyMethodDef _get_def
cdef PyMethodDef _put_def
cdef _fastcall _generated_get
cdef _fastcall _generated_put
cdef object _TTL_NAME = sys.intern("ttl")
cdef object _DEFAULT_TTL = 3600


cdef PyObject *_get_fastcall(PyObject *self, PyObject **args, Py_ssize_t nargs,
                             PyObject *kwnames) except NULL:
    cdef object result
    if kwnames != NULL or nargs < 1 or nargs > 2 or (<SimpleMooncake>self).monitor is not None:
        return _generated_get(self, args, nargs, kwnames)
    result = _get_one(<SimpleMooncake>self, <object>args[0])
    if result is _MISSING:
        result = <object>args[1] if nargs == 2 else None
    Py_INCREF(result)
    return <PyObject *>result


cdef PyObject *_put_fastcall(PyObject *self, PyObject **args, Py_ssize_t nargs,
                             PyObject *kwnames) except NULL:
    cdef object ttl, result
    if (<SimpleMooncake>self).monitor is not None:
        return _generated_put(self, args, nargs, kwnames)
    if kwnames == NULL:
        if nargs == 2:
            ttl = _DEFAULT_TTL
        elif nargs == 3:
            ttl = <object>args[2]
        else:
            return _generated_put(self, args, nargs, kwnames)
    elif (nargs == 2 and PyTuple_GET_SIZE(kwnames) == 1
          and PyTuple_GET_ITEM(kwnames, 0) == <PyObject *>_TTL_NAME):
        ttl = <object>args[2]
    else:
        return _generated_put(self, args, nargs, kwnames)
    result = _put_one(<SimpleMooncake>self, <object>args[0], <object>args[1], _put_seconds(ttl))
    Py_INCREF(result)
    return <PyObject *>result


cdef _fastcall _install(str name, PyMethodDef *method, void *function):
    """Replace the type's method ``name`` by ``function`` (same flags, name and
    docstring); return the generated function it stands in front of. If
    Cython did not generate a METH_FASTCALL | METH_KEYWORDS method descriptor
    (another Cython, CYTHON_VECTORCALL=0), leave the method alone: NULL."""
    cdef PyTypeObject *t = <PyTypeObject *>SimpleMooncake
    cdef object generated = (<object>t.tp_dict)[name]
    cdef PyMethodDef *original
    if type(generated) is not _METHOD_DESCRIPTOR:
        return NULL
    original = (<PyMethodDescrObject *>generated).d_method
    if original.ml_flags != METH_FASTCALL | METH_KEYWORDS:
        return NULL
    method.ml_name = original.ml_name
    method.ml_meth = function
    method.ml_flags = original.ml_flags
    method.ml_doc = original.ml_doc
    (<object>t.tp_dict)[name] = PyDescr_NewMethod(t, method)
    PyType_Modified(t)
    return <_fastcall><void *>original.ml_meth


_generated_get = _install("get", &_get_def, <void *>_get_fastcall)
_generated_put = _install("put", &_put_def, <void *>_put_fastcall)
