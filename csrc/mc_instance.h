/* Whether an object of a type with an instance __dict__ has any instance
 * attribute, read straight from the dict slot (the attribute __dict__ would
 * create an empty dict on first access). NULL, None or an empty dict: none. */
#ifndef MC_INSTANCE_H
#define MC_INSTANCE_H

#include <Python.h>

static inline int mc_has_instance_attributes(PyObject *o)
{
    Py_ssize_t offset = Py_TYPE(o)->tp_dictoffset;
    PyObject *dict;
    if (offset <= 0)
        return 0;
    dict = *(PyObject **)((char *)o + offset);
    return dict != NULL && PyDict_Check(dict) && PyDict_GET_SIZE(dict) > 0;
}

#endif
