"""The async shell, driven from plain test code, so one test runs on both shells.

``AsyncDriven(*args, **kwargs)`` builds an AsyncSharedMooncake and answers
SharedMooncake's API (``in``, ``len``, ``[]`` included) by running each
coroutine to completion on a loop of its own, in the calling thread. So the
contract tests, the model test and the failure tests run unchanged through
the sync shell and through the async one.
"""

import asyncio

from mooncake.shared import AsyncSharedMooncake, SharedMooncake

_MISSING = object()


class AsyncDriven:
    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self.cache = AsyncSharedMooncake(*args, **kwargs)
        # A URL cache connects lazily, as the first operation would; a refusal
        # (wrong credentials, unreachable without fail_open) raises here, as
        # SharedMooncake's constructor does.
        try:
            self._run(self.cache.connect())
        except BaseException:
            self._loop.close()
            raise

    def _run(self, coroutine):
        return self._loop.run_until_complete(coroutine)

    def __getattr__(self, name):
        attribute = getattr(self.cache, name)
        if name in ("memoize",) or not callable(attribute):
            return attribute
        return lambda *args, **kwargs: self._run(attribute(*args, **kwargs))

    def __contains__(self, key):
        return self._run(self.cache.contains(key))

    def __len__(self):
        return self._run(self.cache.size())

    def __getitem__(self, key):
        value = self._run(self.cache.get(key, _MISSING))
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self._run(self.cache.put(key, value))

    def __delitem__(self, key):
        if not self._run(self.cache.delete(key)):
            raise KeyError(key)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __reduce__(self):
        return self.cache.__reduce__()

    def close(self):
        """aclose(); the cache stays usable, as SharedMooncake's does after close()
        (the loop itself is closed when this object goes)."""
        self._run(self.cache.aclose())

    def __del__(self):
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.close()


#: The shells, by test id.
SHELLS = {"sync": SharedMooncake, "async": AsyncDriven}
