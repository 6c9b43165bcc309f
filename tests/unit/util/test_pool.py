"""rockzoom.util.pool: results in task order, workers started on entry, at most workers * ahead chunks in flight."""
import os

from rockzoom.util.pool import ordered_map, warm_pool


def _pid_of(task):
    return task, os.getpid()


def test_results_keep_task_order_in_process_and_in_workers():
    tasks = list(range(37))
    assert [t for t, _ in ordered_map(_pid_of, tasks, None)] == tasks
    with warm_pool(2) as pool:
        out = list(ordered_map(_pid_of, iter(tasks), pool, chunksize=4))
    assert [t for t, _ in out] == tasks
    assert os.getpid() not in {pid for _, pid in out}


def test_warm_pool_starts_every_worker_on_entry():
    with warm_pool(2) as pool:
        assert len(pool._processes) == 2  # forked now, before the caller builds its task list
    with warm_pool(1) as pool:
        assert pool is None


def test_tasks_are_drawn_lazily_with_a_bounded_number_in_flight():
    drawn = []

    def tasks():
        for i in range(100):
            drawn.append(i)
            yield i

    with warm_pool(2) as pool:
        results = ordered_map(_pid_of, tasks(), pool, ahead=2, chunksize=3)
        first = next(results)
        assert first[0] == 0
        assert len(drawn) <= 2 * 2 * 3 + 3  # the chunks in flight and the one being filled, not all 100
        assert [t for t, _ in results] == list(range(1, 100))
