"""Many threads recording into one monitor: no record lost, no crash."""

import threading

import pytest

THREADS = 10
RECORDS = 100_000


@pytest.mark.slow
def test_ten_threads_record_exact_counts(monitor_mod):
    m = monitor_mod.SimpleMonitor(max_metrics=5000)
    start = threading.Barrier(THREADS + 1)
    errors = []

    def writer(n):
        try:
            start.wait()
            record = m.record_operation
            own = f"thread-{n}"
            for i in range(RECORDS):
                # Half to a name every thread shares, half to the thread's own.
                record("shared" if i & 1 else own, 1e-6, i % 10 != 0, 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader():
        # Reads while the writers run must never crash or see a broken record.
        start.wait()
        while any(t.is_alive() for t in writers):
            assert len(m.metrics[-10:]) <= 10
            for rec in m.metrics[-50:]:
                assert rec.duration == 1e-6 and rec.data_size == 1
            m.get_performance_summary()
            m.to_prometheus()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in writers:
        t.start()
    read_errors = []
    reader_thread = threading.Thread(target=lambda: _catch(reader, read_errors))
    reader_thread.start()
    for t in writers:
        t.join()
    reader_thread.join()

    assert errors == [] and read_errors == []
    total = THREADS * RECORDS
    assert m.get_operation_count("shared") == total // 2
    for n in range(THREADS):
        assert m.get_operation_count(f"thread-{n}") == RECORDS // 2
    stats = m.operation_stats
    assert sum(row["count"] for row in stats.values()) == total
    assert sum(row["success_count"] for row in stats.values()) == total - total // 10
    assert sum(row["total_size"] for row in stats.values()) == total
    assert m.get_metrics_count() == 5000
    summary = m.get_performance_summary()
    assert sum(s["count"] for s in summary.values()) == total
    assert summary["shared"]["p99"] == 1e-6


def _catch(fn, errors):
    try:
        fn()
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
