"""release_mapped_pages: a memory-mapped array's read pages leave this process's RSS, and it still reads the same."""
from pathlib import Path

import numpy as np
import pytest

from rockzoom.util.memory import release_mapped_pages


def _rss_file_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    pytest.skip("no RssFile in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_read_pages_leave_rss_and_the_data_reads_the_same(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (64, 256, 256, 3), dtype=np.uint8)  # 12 MiB
    np.save(tmp_path / "a.npy", data)
    mapped = np.load(tmp_path / "a.npy", mmap_mode="r")
    total = int(mapped.astype(np.int64).sum())  # touches every page
    before = _rss_file_kb()
    release_mapped_pages(mapped)
    assert before - _rss_file_kb() > 10 * 1024  # most of the 12 MiB left
    assert int(mapped.astype(np.int64).sum()) == total == int(data.astype(np.int64).sum())


def test_plain_arrays_are_left_alone():
    a = np.arange(10)
    release_mapped_pages(a, None, [1, 2])
    assert a.tolist() == list(range(10))
