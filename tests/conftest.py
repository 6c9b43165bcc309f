import os
from pathlib import Path

# Many tiny models: one BLAS/OpenMP thread per process is faster than two fighting over two cores, and the
# Snakemake jobs the tests start inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest

REPO = Path(__file__).resolve().parents[1]


def real_tiles_dir() -> Path | None:
    """The real drone pyramid: $ROCKZOOM_REAL_TILES or ../shared/data/rock-tiles beside the checkout."""
    env = os.environ.get("ROCKZOOM_REAL_TILES")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "rock-tiles")
    for c in candidates:
        if (c / "23").is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_tiles() -> Path:
    path = real_tiles_dir()
    if path is None:
        pytest.skip("real rock tiles not found (set ROCKZOOM_REAL_TILES or place them at ../shared/data/rock-tiles)")
    return path
