"""The engine's table layout at its edges: slots of 3 bytes in tables up to
2**23 slots, 4 bytes above (csrc/mc_slots.h), and keys whose hashes fold to
the same 32 bits (the records keep only those).

The pure twin has no layout; the fold it shares is held to the engine here.
"""

import pytest

from conftest import TWINS, FakeClock, implementation

# A table of 2**23 slots holds up to 2**23 * 2 // 3 records; one more entry
# makes it grow to 2**24 slots of 4 bytes.
SMALL_TABLE_MAX_ENTRIES = 2**23 * 2 // 3

# The odd constant the fold multiplies a hash's high half by (_fold in src/mooncake/cache/table.pxi).
FOLD_MIX = 0x9E3779B1


@pytest.mark.slow
@pytest.mark.skipif("c" not in TWINS, reason="the engine is not built (MOONCAKE_PURE_PYTHON=1)")
def test_a_table_past_the_3_byte_slots_keeps_every_key():
    cache = implementation("cache", "c").SimpleMooncake(clock=FakeClock(), access_log_size=0)
    n = SMALL_TABLE_MAX_ENTRIES + 1000
    cache.put_many(((i, i) for i in range(n)), ttl=60)
    assert len(cache) == n
    assert all(cache.get(i) == i for i in range(0, n, 997))
    assert all(cache.get(i) == i for i in range(n - 2000, n))
    assert cache.get(n) is None
    # Removals write DUMMY into 4-byte slots; once the table is mostly holes a
    # shrink rebuilds it with 3-byte slots.
    for i in range(n - 10):
        cache.delete(i)
    assert sorted(cache.keys()) == list(range(n - 10, n))
    assert all(cache.get(i) == i for i in range(n - 10, n))
    assert cache.get(0) is None


@pytest.mark.parametrize("impl", TWINS)
def test_keys_whose_folded_hashes_match_stay_apart(impl):
    class Key:
        def __init__(self, h, n):
            self.h, self.n, self.eq_calls = h, n, 0

        def __hash__(self):
            return self.h

        def __eq__(self, other):
            self.eq_calls += 1
            return isinstance(other, Key) and other.n == self.n

    cache = implementation("cache", impl).SimpleMooncake(clock=FakeClock())
    # Three hashes with one 32-bit fold (the low half xor the high half times
    # FOLD_MIX, mod 2**32): each low half cancels its high half's term.
    low = 12345
    keys = [Key(low, 0)] + [
        Key((high << 32) | (low ^ (high * FOLD_MIX) % 2**32), high) for high in (1, 2)]
    for k in keys:
        cache.put(k, k.n)
    assert len(cache) == 3
    assert [cache.get(Key(k.h, k.n)) for k in keys] == [0, 1, 2]
    # Equal folds mean __eq__ decides, as equal hashes do in a dict.
    assert sum(k.eq_calls for k in keys) > 0
