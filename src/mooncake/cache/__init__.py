"""The in-process cache.

``_engine`` (Cython: ``_engine.pyx`` includes the ``.pxi`` parts) and ``twin``
(pure Python, the reference model) implement one API; ``mooncake.engines``
chooses between them. Beside them: the argument checks both share
(``arguments``), the read-only views (``views``), the pickle format
(``pickling``), the removal reasons (``removal``) and the twin's admission
filter (``twin_admission``).
"""
