"""The hit-ratio bench's held-out families model what their docstrings say,
are reproducible from their seeds, and keep the tuning and reporting halves
of the seeds apart (``bench/traces.py``)."""

import collections
import pathlib

import pytest

if not (pathlib.Path(__file__).resolve().parents[1] / "bench").is_dir():
    pytest.skip("no bench/ beside tests/ (a test run from an sdist's or a wheel's tests only)",
                allow_module_level=True)

from bench import traces  # noqa: E402 - after the check

N_KEYS, N_REQUESTS = 20_000, 40_000


def _family(name, half="report", capacity=200):
    trace = next(t for t in traces.held_out(N_KEYS, N_REQUESTS, scale=0.02, half=half)
                 if t.name == name)
    return trace.keys(capacity)


def test_every_held_out_family_is_reproducible_and_differs_between_halves():
    for trace in traces.held_out(N_KEYS, N_REQUESTS, scale=0.02):
        again = next(t for t in traces.held_out(N_KEYS, N_REQUESTS, scale=0.02)
                     if t.name == trace.name)
        keys = trace.keys(200)
        assert len(keys) == N_REQUESTS
        assert keys == again.keys(200), trace.name
        assert keys != _family(trace.name, half="tune"), trace.name


def test_tuning_and_reporting_seeds_differ():
    assert traces.HELD_OUT_SEEDS["tune"] != traces.HELD_OUT_SEEDS["report"]
    # The robustness seeds are study seeds too: never the reporting one.
    assert traces.HELD_OUT_SEEDS["report"] not in traces.ROBUSTNESS_SEEDS
    seed = traces.ROBUSTNESS_SEEDS[0]
    assert _family("news", half=seed) not in (_family("news"), _family("news", half="tune"))


def test_drift_moves_the_hot_key_further_the_faster_it_drifts():
    def hot_keys(keys, part):
        counts = collections.Counter(keys[part * 10_000:(part + 1) * 10_000])
        return {k for k, _ in counts.most_common(100)}

    overlap = {}
    for speed in traces.DRIFT_SPEEDS:
        keys = _family(f"drift {speed}")
        overlap[speed] = len(hot_keys(keys, 0) & hot_keys(keys, 3))
    assert overlap["slow"] > overlap["fast"]
    assert overlap["fast"] == 0          # the bump moved past its hottest keys


def test_news_articles_fade_after_they_arrive():
    keys = _family("news")
    first_half = set(keys[:N_REQUESTS // 2])
    articles = {k for k in first_half if k >= N_KEYS}
    later = collections.Counter(k for k in keys[N_REQUESTS // 2:] if k in articles)
    early = collections.Counter(k for k in keys[:N_REQUESTS // 2] if k in articles)
    assert articles
    assert sum(later.values()) < sum(early.values()) / 2


def test_stack_model_repeats_recent_keys_most():
    keys = _family("stack")
    last_seen, distances = {}, []
    for t, k in enumerate(keys):
        if k in last_seen:
            distances.append(t - last_seen[k])
        last_seen[k] = t
    short = sum(d <= 10 for d in distances)
    assert short > len(distances) / 2


def test_tenants_loop_over_their_own_keys_in_order():
    keys = _family("tenants, one looping", capacity=1_000)
    loop = [k - N_KEYS for k in keys if k >= N_KEYS]
    assert loop[:1_000] == list(range(800)) + list(range(200))
    assert 0.3 < len(loop) / N_REQUESTS < 0.5


def test_cdn_one_hit_wonders_are_requested_once():
    keys = _family("CDN one-hit wonders")
    wonders = [k for k in keys if k >= N_KEYS]
    assert len(wonders) == len(set(wonders))
    assert 0.4 < len(wonders) / N_REQUESTS < 0.6
