"""Where log lines and crashes go: a workflow job's log file, the CLI's stderr."""
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rockzoom import cli
from rockzoom.commands import index as index_verb

SRC = Path(__file__).resolve().parents[1] / "src"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "

# What a workflow script does (`snakemake.log[0]` is a path), then a library call that logs, then a crash.
JOB = textwrap.dedent("""
    import sys
    from rockzoom.util.logs import job_logging

    job_logging(sys.argv[1])
    job_logging(sys.argv[1])  # a second call adds nothing
    from rockzoom.util.devices import acquire_gpus

    acquire_gpus(1)  # SLURM_JOB_GPUS is set: logs one line through rockzoom.util.devices' logger
    raise RuntimeError("stage exploded at step 3")
""")


def test_a_crashing_job_leaves_its_log_lines_and_traceback_in_the_rule_log(tmp_path):
    log = tmp_path / "logs" / "train_sr" / "x4.log"
    log.parent.mkdir(parents=True)
    log.write_text("earlier attempt\n")
    env = {"PYTHONPATH": str(SRC), "SLURM_JOB_GPUS": "0", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", JOB, str(log)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    text = log.read_text()
    assert text.startswith("earlier attempt\n")  # appended, as Snakemake reruns expect
    assert re.search(STAMP + "GPUs already assigned by SLURM_JOB_GPUS=0; not locking slots\n", text)
    assert text.count("Traceback (most recent call last)") == 1
    assert "RuntimeError: stage exploded at step 3" in text
    assert text.index("not locking slots") < text.index("Traceback")
    # stderr still gets the traceback (Snakemake shows it), and only once
    assert proc.stderr.count("Traceback (most recent call last)") == 1
    assert "RuntimeError: stage exploded at step 3" in proc.stderr


def test_a_job_that_succeeds_has_no_traceback(tmp_path):
    log = tmp_path / "ok.log"
    code = ("import sys, logging; from rockzoom.util.logs import job_logging; job_logging(sys.argv[1]); "
            "logging.getLogger('rockzoom.some.stage').info('fine'); logging.getLogger('other').info('not ours')")
    proc = subprocess.run([sys.executable, "-c", code, str(log)], env={"PYTHONPATH": str(SRC)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(STAMP + "fine\n", log.read_text())


def test_cli_logs_to_stderr_with_timestamps(monkeypatch, capsys):
    def run(args):
        logging.getLogger("rockzoom.data.tiles").info("indexed 3 tiles")
        return 0

    monkeypatch.setattr(index_verb, "run", run)
    assert cli.main(["index", "tiles"]) == 0
    assert cli.main(["index", "tiles"]) == 0  # configured once: one line per call, not two
    err = capsys.readouterr().err
    assert len(re.findall(STAMP + "indexed 3 tiles\n", err)) == 2


def test_cli_user_errors_are_one_line_and_status_2(tmp_path, capsys):
    assert cli.main(["index", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"rockzoom index: tiles.dir has no zoom-23 folder: {tmp_path / 'missing' / '23'}\n"
    (tmp_path / "empty" / "23").mkdir(parents=True)
    assert cli.main(["index", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2  # rockzoom's ValueError
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("rockzoom index: no usable zoom-23 tile under")


@pytest.mark.parametrize("error", [RuntimeError("a bug"), ValueError("not raised by rockzoom")])
def test_cli_unexpected_errors_keep_their_traceback(monkeypatch, error):
    def run(args):
        raise error

    monkeypatch.setattr(index_verb, "run", run)
    with pytest.raises(type(error), match=str(error)):
        cli.main(["index", "tiles"])
