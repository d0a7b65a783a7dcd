"""SharedMooncake against SimpleMooncake (the model), step by step.

Keys never expire during a run (the model's clock stands still; the shared
ttls are minutes long), so every answer must be the same, ttl within the
time a run takes.
"""

import math
import time
import uuid

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from mooncake import SimpleMooncake
from mooncake.shared import SharedMooncake

from .near_procs import wait_trusted
from .shells import AsyncDriven

# Few keys, so operations meet; ones equal in Python, ones that differ only by type.
KEYS = st.sampled_from(["1", 1, b"1", ("1", 1), True, 0, "", "{a}", "a*", "%", ("t", ("u", b"")),
                        "long" * 20])
VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=3))
TTLS = st.sampled_from([600, 3600.5, math.inf, 0, -1])
LIVE_TTLS = st.sampled_from([600, 3600.5, math.inf])
RUN_SECONDS = 60  # more than a run can take: the slack on compared ttls


def _same_ttl(remote, model):
    if model is None or model == math.inf:
        return remote == model
    return remote is not None and model - RUN_SECONDS < remote <= model


@pytest.fixture
def machine_client(server):
    client = server.client()  # one client for every example: each gets a fresh namespace
    yield client
    client.close()


def make_machine(make_cache, near=None, near_hits=None):
    class SharedAgainstModel(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.model = SimpleMooncake(clock=lambda: 0.0)
            # With a near cache, the first steps run while it is still bypassed
            # (tracking not yet confirmed) and the later ones through it.
            self.cache = make_cache(namespace=f"model:{uuid.uuid4().hex[:10]}:", near=near)

        def teardown(self):
            if near_hits is not None:
                # The steps above may all have run before tracking was confirmed
                # (a loaded machine): end with reads that are near hits for sure.
                # Our put's own invalidation may still drop the first fill, so
                # read until one read is served locally (bounded).
                wait_trusted(self.cache)
                assert self.cache.put("settled", "v") == self.model.put("settled", "v")
                deadline = time.monotonic() + 10
                start = self.cache.get_stats()["near_hits"]
                while self.cache.get_stats()["near_hits"] == start:
                    assert time.monotonic() < deadline, "no read was served by the near cache"
                    assert self.cache.get("settled", "default") == self.model.get("settled", "default")
            # The counters (and a scan of the namespace) once per run: every
            # answer was already compared at its step.
            remote, model = self.cache.get_stats(), self.model.get_stats()
            for name in ("total_objects", "hits", "misses", "puts", "deletes"):
                assert remote[name] == model[name], name
            assert remote["errors"] == remote["rejected"] == 0
            if near_hits is not None:
                near_hits.append(remote["near_hits"])
            self.cache.clear()
            self.cache.close()  # stops a near cache's listener; the client is the fixture's

        @rule(key=KEYS, value=VALUES, ttl=TTLS)
        def put(self, key, value, ttl):
            assert self.cache.put(key, value, ttl) == self.model.put(key, value, ttl)

        @rule(key=KEYS, value=VALUES, ttl=TTLS)
        def add(self, key, value, ttl):
            # The model has no add: put only if absent (ttl <= 0 stores nothing either way).
            absent = key not in self.model
            if absent and ttl > 0:
                self.model.put(key, value, ttl)
            assert self.cache.add(key, value, ttl) == absent

        @rule(key=KEYS)
        def get(self, key):
            assert self.cache.get(key, "default") == self.model.get(key, "default")

        @rule(key=KEYS)
        def delete(self, key):
            assert self.cache.delete(key) == self.model.delete(key)

        @rule(key=KEYS)
        def pop(self, key):
            assert self.cache.pop(key, "default") == self.model.pop(key, "default")

        @rule(key=KEYS)
        def contains(self, key):
            assert (key in self.cache) == (key in self.model)

        @rule(key=KEYS, ttl=st.one_of(LIVE_TTLS, st.sampled_from([0, -5])))
        def touch(self, key, ttl):
            assert self.cache.touch(key, ttl) == self.model.touch(key, ttl)

        @rule(key=KEYS)
        def ttl(self, key):
            assert _same_ttl(self.cache.ttl(key), self.model.ttl(key))

        @rule(items=st.lists(st.tuples(KEYS, VALUES), max_size=6), ttl=TTLS)
        def put_many(self, items, ttl):
            assert self.cache.put_many(items, ttl) == self.model.put_many(items, ttl)

        @rule(keys=st.lists(KEYS, max_size=6))
        def get_many(self, keys):
            assert self.cache.get_many(keys) == self.model.get_many(keys)

        @rule()
        def clear(self):
            self.cache.clear()
            self.model.clear()

        @rule()
        def length(self):
            assert len(self.cache) == len(self.model)

    return SharedAgainstModel


@pytest.mark.parametrize("near", [None, 100], ids=["remote", "near"])
@pytest.mark.parametrize("shell", ["sync", "async"])
def test_shared_cache_agrees_with_the_model(machine_client, server, near, shell):
    if shell == "sync":  # one client for every example: each gets a fresh namespace
        def make_cache(**kwargs):
            return SharedMooncake(client=machine_client, **kwargs)
    else:  # the async shell, each example on a loop (and a client) of its own
        def make_cache(**kwargs):
            return AsyncDriven(server.url, **kwargs)
    near_hits = [] if near else None
    make_machine(make_cache, near, near_hits).TestCase().runTest()
    if near:
        assert sum(near_hits) > 0  # some steps were served by the near cache
