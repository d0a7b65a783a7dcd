# The C-level checks of the values a monitor's methods take (a part of
# _engine.pyx); the settings' checks are shared with the twin in arguments.py.
# Each turns a Python value into a C one, or raises TypeError or ValueError.


cdef str _exact_str(object operation):
    if not isinstance(operation, str):
        raise TypeError(f"operation must be a str, not {type(operation).__name__}")
    return PyUnicode_FromObject(operation)  # a plain str, without running subclass code


cdef double _number_value(object value, str what) except? -1.0:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    if isinstance(value, int):
        try:
            return PyLong_AsDouble(value)
        except OverflowError:
            return INFINITY
    return PyFloat_AS_DOUBLE(value)


cdef uint64_t _size_value(object value) except? 0xFFFFFFFFFFFFFFFF:
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"data_size must be an int, not {type(value).__name__}")
    try:
        return PyLong_AsUnsignedLongLong(value)
    except OverflowError:
        raise ValueError(f"data_size must be in 0 .. 2**64 - 1, got {int(value)}") from None
