"""The scene generator's settings and what follows from them alone: the field synthesis's settings and levels,
and the declared memory of its jobs. Plain Python (no torch), so the Snakefile can import it."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

MB = 2**20
FLOOR_MB = 600  # the Python, numpy and torch baseline of a job


@dataclass(frozen=True)
class FieldSettings:
    """Settings of ``synthesize_field`` (see its docstring)."""
    coarse: float = 1 / 8          # scale of the coarsest level (a 256 px output starts at 32 px)
    factor: float = 0.75           # pyramid step between levels (at most; rounded so the levels reach ``coarse``)
    patch: int = 7                 # patch side at every level (odd)
    pca_dims: int = 16             # matching dimensions
    alpha: float = 0.005           # completeness at the exhaustive levels (None-like: 0 turns it off)
    noise: float = 0.5             # std of the noise added to the coarsest start ([-1, 1] units)
    init: str = "auto"             # coarsest start: "crop" (a random window of the source), "noise" or "auto"
    shuffle: int = 0               # coarsest start cut into blocks of this many px, shuffled (0: off)
    coarse_iterations: int = 4     # exhaustive-match iterations per coarse level
    fine_iterations: int = 2       # local-search iterations per fine level
    exhaustive_max: float = 4e7    # queries x keys up to which a level is matched exhaustively
    radius: int = 1                # local search window (pixels either side of the upsampled match)
    random_jumps: int = 2          # random candidates per pixel per local iteration (PatchMatch random search)
    sigma: float = 1.0             # Gaussian weight (px) of patch pixels in the vote; 0: each pixel its centre's
    carry: str = "field"           # how a level starts from the coarser one: "field" or "image" (see synthesize_field)
    chunk: int = 16384             # pixels per local-search chunk (bounds memory)

    def __post_init__(self):
        if self.patch < 3 or self.patch % 2 == 0:
            raise ValueError(f"patch must be odd and >= 3, got {self.patch}")
        if not 0 < self.coarse <= 1:
            raise ValueError(f"coarse must be in (0, 1], got {self.coarse}")
        if not 0 < self.factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {self.factor}")
        if self.carry not in ("field", "image"):
            raise ValueError(f"carry must be 'field' or 'image', got {self.carry!r}")
        if self.shuffle < 0:
            raise ValueError(f"shuffle must be >= 0, got {self.shuffle}")
        if self.init not in ("crop", "noise", "auto"):
            raise ValueError(f"init must be 'crop', 'noise' or 'auto', got {self.init!r}")


def level_scales(coarse: float, factor: float) -> list[float]:
    """Scales of the levels, coarsest first, ending at 1: as few levels as keep each step >= factor."""
    if coarse >= 1:
        return [1.0]
    n = max(1, math.ceil(math.log(coarse) / math.log(factor)))
    step = coarse ** (1 / n)
    return [step ** (n - i) for i in range(n)] + [1.0]


def settings_from(config: dict | None) -> FieldSettings:
    """FieldSettings from a config mapping (unknown keys are refused with their names)."""
    config = dict(config or {})
    known = set(asdict(FieldSettings()))
    bad = sorted(set(config) - known)
    if bad:
        raise ValueError(f"unknown scene synthesis settings {bad}; known: {sorted(known)}")
    return FieldSettings(**config)


def canvas_side(size: int, source_size: int) -> int:
    """The side of the training-ground window an image of ``size`` px is made from: ``source_size`` for tiles up to
    it (a 256 px tile reshuffles a 512 px window), the image's own size above (a 1024 px scene, a 1024 px window)."""
    return max(int(source_size), int(size))


def scene_memory_mb(size: int, fit: dict, synthesis: dict | None = None) -> int:
    """Declared memory (MB) of a job fitting the model (size 0) or making ``size`` px scenes: the model's windows,
    the canvas and its finest level's feature tables (keys and values, float32), the output's field, candidates,
    query features and vote, plus the baseline. Set by the settings, never by the tree."""
    s = settings_from(synthesis)
    source = int(fit.get("source_size", 512))
    sides = {canvas_side(z, source) for z in fit.get("sizes") or (source,)}
    windows = len(sides) * int(fit.get("max_sources", 64)) * source * source * 4  # the same bytes per side
    if not size:
        return FLOOR_MB + math.ceil(2 * windows / MB)
    side = canvas_side(size, source)
    canvas = side * side * (3 * 4 * 3 + 2 * (s.pca_dims + 1) * 4)
    pixels = size * size
    candidates = (2 * s.radius + 1) ** 2 + 4 + s.random_jumps
    output = pixels * (3 * 4 * 4 + s.pca_dims * 4 + 8 * 3) + pixels * candidates * 9
    chunk = s.chunk * candidates * (s.pca_dims + 2) * 4
    return FLOOR_MB + math.ceil((windows + canvas + output + chunk) / MB)
