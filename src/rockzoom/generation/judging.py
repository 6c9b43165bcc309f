"""The realism judges (``rockzoom.metrics.judges``) where the realism table and each option use them.

Everything is judged as 256 px tiles (``GROUND_SIZE``, the tree's own tile) at the tree's pixel size:
- the **ground**: the complete real tiles of the 256 px dataset: training tiles (what generators are made from and
  meant to resemble) and held-out tiles (``realism.heldout_splits``), each capped by ``realism.judges.max_reference``
  (a seeded uniform draw);
- **floors**: two halves of the training ground against each other, and the held-out ground against the training
  ground;
- **power checks**: the positive controls (``rockzoom.metrics.controls``) made from one half of the training ground,
  judged against the other half; a family scoring any control below ``min_power`` has no power and is left out of
  every headline of the run;
- **candidates**: a generator's samples (larger ones cut into 256 px tiles, grouped by sample) against the training
  ground and against the held-out ground; an upscaler's output by scale analogy (the held-out tiles box-averaged
  x k, upscaled, against the same tiles, each tile grouped with its own upscale); an option's output finer than the
  tree (x k) both ways: cut at its own pixel size, and box-averaged x k to the tree's pixel size.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from rockzoom.metrics import judges
from rockzoom.metrics.controls import make_control

log = logging.getLogger(__name__)

GROUND_SIZE = 256
REFERENCES = ("train", "heldout")


def complete(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The images without any no-data pixel (the judges compare whole tiles)."""
    keep = np.asarray(masks).reshape(len(masks), -1).all(1)
    return np.ascontiguousarray(np.asarray(images)[keep])


def complete_tiles(data_dir, splits, cap: int | None, rng: np.random.Generator, chunk: int = 256) -> np.ndarray:
    """``complete`` of the tiles of ``splits`` of ``data_dir`` together, then at most ``cap`` of them (a seeded draw
    from ``rng``); the masks are read ``chunk`` at a time and only the drawn tiles are loaded, so memory is set by
    the cap, not by the size of the tree."""
    from rockzoom.data.store import load_split

    parts = [load_split(data_dir, s) for s in splits]
    where = [(p, r) for p in parts for s in range(0, len(p.masks), chunk)
             for r in s + np.flatnonzero(np.asarray(p.masks[s:s + chunk]).reshape(-1, p.masks[0].size).all(1))]
    if cap is not None and len(where) > cap:
        where = [where[i] for i in np.sort(rng.choice(len(where), cap, replace=False))]
    if not where:
        return np.zeros((0,) + parts[0].images.shape[1:], np.uint8)
    return np.stack([np.asarray(p.images[r]) for p, r in where])


def as_ground_tiles(images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Candidates of any multiple of 256 px -> 256 px tiles and their groups (None when already 256 px)."""
    if images.shape[1:3] == (GROUND_SIZE, GROUND_SIZE):
        return images, None
    return judges.cut_tiles(images, GROUND_SIZE)


def flat_result(result: dict, powered: dict[str, bool], prefix: str) -> dict:
    """One reference's judge results as flat table columns ``{prefix}_texture``, ``{prefix}_cnn_full``, ...,
    ``{prefix}_max`` (the headline) and its interval and judge."""
    out = {}
    for fam, r in result.items():
        out[f"{prefix}_{fam}"] = r["score"]
        out[f"{prefix}_{fam}_ci_low"], out[f"{prefix}_{fam}_ci_high"] = r["ci_low"], r["ci_high"]
        for view, v in r.get("views", {}).items():
            out[f"{prefix}_{fam}_{view}"] = v["score"]
        out[f"{prefix}_n_real"], out[f"{prefix}_n"] = r["n_real"], r["n_fake"]
    head = judges.headline(result, powered)
    out.update({f"{prefix}_max": head["score"], f"{prefix}_max_ci_low": head["ci_low"],
                f"{prefix}_max_ci_high": head["ci_high"], f"{prefix}_max_by": head["judge"]})
    return out


JUDGED_ORDER = ("texture", "cnn")  # the order Judge.score reports the families in (ties in the max go to the first)


def headline_columns(row, powered: dict[str, bool], prefix: str) -> dict:
    """``flat_result``'s headline columns recomputed from a row's flat family columns (``row``: a dict or a table
    row), for the families the row was judged by; {} when it was judged by none. The realism table's rows are
    judged in parts apart from its power checks, and get their headline when the table is put together."""
    result = {}
    for fam in JUDGED_ORDER:
        score = row.get(f"{prefix}_{fam}")
        if score is not None and score == score:  # not missing, not NaN
            result[fam] = {"score": score, "ci_low": row[f"{prefix}_{fam}_ci_low"],
                           "ci_high": row[f"{prefix}_{fam}_ci_high"]}
    if not result:
        return {}
    head = judges.headline(result, powered)
    return {f"{prefix}_max": head["score"], f"{prefix}_max_ci_low": head["ci_low"],
            f"{prefix}_max_ci_high": head["ci_high"], f"{prefix}_max_by": head["judge"]}


@dataclass
class Ground:
    """The real reference sets, their judges, and this run's power checks."""
    train: np.ndarray
    heldout: np.ndarray
    settings: dict
    seed: int = 0
    floors: dict = field(default_factory=dict)  # name -> judge result
    controls: dict = field(default_factory=dict)  # control -> judge result
    powered: dict = field(default_factory=dict)  # family -> bool
    _judges: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, data_dir, settings: dict, seed: int = 0) -> "Ground":
        """The 256 px dataset's complete training and held-out tiles (``settings`` = the ``realism`` block)."""
        cap = settings["judges"]["max_reference"]
        rng = np.random.default_rng([seed, 23])
        train = complete_tiles(data_dir, ("train",), cap, rng)
        held = complete_tiles(data_dir, settings["heldout_splits"], cap, rng)
        if min(len(train), len(held)) < 8:
            raise judges_too_few(data_dir, len(train), len(held))
        log.info("judging ground: %d training and %d held-out complete %d px tiles of %s", len(train), len(held),
                 GROUND_SIZE, data_dir)
        return cls(train=train, heldout=held, settings=settings, seed=seed)

    def judge(self, reference: str) -> judges.Judge:
        if reference not in self._judges:
            images = {"train": self.train, "heldout": self.heldout}[reference]
            self._judges[reference] = judges.Judge(images, self._judge_settings())
        return self._judges[reference]

    def _judge_settings(self) -> dict:
        j = self.settings["judges"]
        return {"families": j["families"], "texture": j["texture"], "cnn": j["cnn"]}

    def check_power(self) -> dict[str, bool]:
        """The floors and the positive controls; sets ``powered``."""
        j = self.settings["judges"]
        rng = np.random.default_rng([self.seed, 29])
        order = rng.permutation(len(self.train))
        a, b = np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2:])
        half = judges.Judge(self.train[b], self._judge_settings())
        self.floors["training half vs half"] = half.score(self.train[a])
        self.floors["held-out vs training ground"] = self.judge("train").score(self.heldout)
        source = self.train[a][: j["control_images"]]
        for name in j["controls"]:
            self.controls[name] = half.score(make_control(name, source, seed=self.seed))
        self.powered = judges.power(self.controls, j["min_power"])
        for fam, ok in self.powered.items():
            lowest = min(r[fam]["score"] for r in self.controls.values())
            log.info("judge %s: %s (lowest control %.3f)", fam, "has power" if ok else "NO POWER", lowest)
        return self.powered

    def score(self, candidates: np.ndarray, reference: str, groups=None) -> dict:
        return self.judge(reference).score(candidates, candidate_groups=groups)

    def columns(self, candidates: np.ndarray, references=REFERENCES) -> dict:
        """A generator's samples against each reference -> flat columns (``flat_result``)."""
        tiles, groups = as_ground_tiles(candidates)
        out = {}
        for ref in references:
            out.update(flat_result(self.score(tiles, ref, groups), self.powered, ref))
        return out


def judges_too_few(data_dir, n_train: int, n_held: int):
    from rockzoom.metrics.realism import TooFewImages

    return TooFewImages(f"{data_dir}: the judges need at least 8 complete {GROUND_SIZE} px training and held-out "
                        f"tiles, found {n_train} and {n_held}")


def scale_analogy(reference: np.ndarray, upscale, scale: int, settings: dict, powered: dict) -> tuple[dict, np.ndarray]:
    """An upscaler judged by scale analogy: ``reference`` box-averaged x ``scale``, upscaled by ``upscale``
    (uint8 (N, h, w, 3) -> uint8 (N, H, W, 3)), against the same tiles, each tile in one fold with its own upscale
    -> (flat columns with prefix "heldout", the upscaled tiles)."""
    j = settings["judges"]
    lr = judges.box_down(reference, scale)
    up = upscale(lr)
    groups = np.arange(len(reference))
    judge = judges.Judge(reference, {"families": j["families"], "texture": j["texture"], "cnn": j["cnn"]},
                         reference_groups=groups)
    return flat_result(judge.score(up, candidate_groups=groups), powered, "heldout"), up
