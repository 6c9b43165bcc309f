"""Drive the workflow from tests: the Snakemake v9 API for planning, the CLI for real runs."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# on every test that reads the shared `all` run (conftest's finished_all / finished_copy): pytest-xdist's loadgroup
# sends them to one worker, which runs `all` once
SHARES_ALL_RUN = pytest.mark.xdist_group("all_run")
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TEST_CONFIGS = [REPO / "config" / "config.yaml", REPO / "config" / "test.yaml"]


def plan(targets: list[str], workdir: Path, configfiles: list[Path], overrides: dict | None = None) -> dict[str, int]:
    """Dry-run through the Snakemake API; returns {rule name: number of jobs} that would run."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
    )

    with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
        wf = api.workflow(
            resource_settings=ResourceSettings(cores=2),
            config_settings=ConfigSettings(configfiles=[Path(c) for c in configfiles], config=overrides or {}),
            snakefile=REPO / "Snakefile",
            workdir=workdir,
        )
        stats: dict = {}

        class RunInfo(logging.Handler):
            def emit(self, record):
                if "stats" in record.__dict__ and isinstance(record.stats, dict):
                    stats.update(record.stats)

        handler = RunInfo()
        logging.getLogger("snakemake.logging").addHandler(handler)
        try:
            wf.dag(dag_settings=DAGSettings(targets=set(targets))).execute_workflow(executor="dryrun")
        finally:
            logging.getLogger("snakemake.logging").removeHandler(handler)
        return {rule: int(n) for rule, n in stats.items() if rule != "total"}


def run(args: list[str], workdir: Path, configfiles: list[Path], check: bool = True, timeout: int = 900):
    """A real Snakemake run on 2 cores, one thread per job (the tests' jobs run with one BLAS thread, see conftest):
    rules that claim every core would otherwise run one at a time (the shared `all` run alone: 211 s against 156 s)."""
    cmd = SNAKEMAKE + ["--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
                       "--configfile", *map(str, configfiles), "--cores", "2", "--max-threads", "1", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc
