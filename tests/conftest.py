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


@pytest.fixture(scope="session")
def finished_all(tmp_path_factory) -> Path:
    """One full run of `all` on the tiny config (demo pyramid, every option, benchmark with refine rows, pyramid),
    shared by the end-to-end tests. Read it, plan on it, or copy it (finished_copy) before running more jobs."""
    from workflow_helpers import TEST_CONFIGS, run

    workdir = tmp_path_factory.mktemp("all")
    run(["all"], workdir, TEST_CONFIGS, timeout=1500)
    return workdir


@pytest.fixture
def finished_copy(finished_all, tmp_path) -> Path:
    """A private copy of the finished run (mtimes and Snakemake metadata kept) for tests that run further jobs."""
    import shutil

    return Path(shutil.copytree(finished_all, tmp_path / "run", symlinks=True))


def pytest_collection_modifyitems(config, items):
    """The tests that read the shared `all` run carry ``workflow_helpers.SHARES_ALL_RUN``, so that pytest-xdist
    (``--dist loadgroup``, the README's test command) sends them to one worker, which runs it once."""
    from workflow_helpers import SHARES_ALL_RUN

    for item in items:
        uses_run = {"finished_all", "finished_copy"} & set(getattr(item, "fixturenames", ()))
        if uses_run and SHARES_ALL_RUN.mark not in item.iter_markers("xdist_group"):
            raise pytest.UsageError(f"{item.nodeid} reads the shared `all` run: mark it @SHARES_ALL_RUN "
                                    "(workflow_helpers), or every pytest-xdist worker runs `all` again")
