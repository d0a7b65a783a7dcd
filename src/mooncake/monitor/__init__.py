"""The operation monitor.

``_engine`` (Cython) and ``twin`` (pure Python, the reference model) implement
one API; ``mooncake.engines`` chooses between them. Beside them: the argument
checks (``arguments``), the twin's lock (``lock``), the read-only views
(``views``), ``track()`` (``tracking``), the metrics record (``metrics``), the
latency histogram's layout (``histogram``) and the Prometheus export
(``prometheus``).
"""
