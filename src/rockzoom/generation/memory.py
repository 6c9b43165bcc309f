"""The declared memory (``resources: mem_mb``) of the ``generate`` job, from its settings alone: the number and
size of the samples, the detail stage's caps, and the realism settings' caps on the real images it compares with
(never the number of training tiles). Plain Python (no torch), so the Snakefile can import it.

Calibrated against the Snakemake benchmark files of option_a's generate on the demo tree and on a 10x tree."""
from __future__ import annotations

from rockzoom.texture.memory import FLOOR_MB, MB, detail_mem_mb, to_mb

MODELS_MB = 250  # the AE and the SR net loaded, their inference buffers on 256 px inputs, matplotlib and PIL
GROUND = 256  # the judges compare 256 px tiles (rockzoom.generation.judging.GROUND_SIZE)


def _judges_bytes(realism: dict) -> int:
    """The judges' ground (training and held-out 256 px tiles, at most max_reference each), the candidates cut into
    256 px tiles, and the judges' features and CNN training."""
    judges = realism.get("judges") or {}
    cap = judges.get("max_reference") or 1024
    return 2 * cap * GROUND * GROUND * 3 + 300 * MB


def _report_bytes(realism: dict, n: int, size: int) -> int:
    """The real images of the output size (training and held-out, at most max_images each, with masks) and the
    largest transient of the KID, SWD, spectrum and copy measures (one batch, one image's pyramid, one block of
    copy-search distances and one training image's descriptors)."""
    cap = realism.get("max_images") or 1024
    kid = realism.get("kid") or {}
    crop, batch = min(size, kid.get("crop", 256)), kid.get("batch", 16)
    transient = max(batch * crop * crop * 16 * 4 * 4,  # KID: the random CNN's first layers on one batch
                    n * size * size * 3 * 4 * 2,  # SWD and spectrum: the drawn pairs in float
                    3 * 16_000_000 * 4 + 3 * (size // 4) ** 2 * 192 * 4)  # copy search
    return 2 * cap * size * size * 4 + transient


def generate_mem_mb(*, n: int, native: int, output: int, detail: dict | None = None, realism: dict | None = None,
                    real: bool = False, ground: bool = False) -> int:
    """``n`` samples of ``native`` px made into ``output`` px ones; ``detail``: the config's detail section when the
    option runs the detail stage; ``realism``: the realism section; ``real``: the tree has real images of the
    output size (the KID and copy measures run), ``ground``: it has 256 px tiles (the judges run)."""
    work = MODELS_MB * MB + 3 * n * output * output * 3  # the samples, their stack and the PNG being written
    phases = [(detail_mem_mb(detail, native) - FLOOR_MB) * MB if detail else 0]
    if realism is not None:
        phases.append((_judges_bytes(realism) if ground else 0) + (_report_bytes(realism, n, output) if real else 0))
    return FLOOR_MB + to_mb(work + max(phases))
