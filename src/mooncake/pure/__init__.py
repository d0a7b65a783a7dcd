"""The pure-Python twins: the reference model of the Cython engines, written to be read."""
