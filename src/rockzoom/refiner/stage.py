"""The `refine` stage: run a trained refiner over image files that any upscaler produced (alpha kept as is)."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from rockzoom.data.image_files import FORMATS, read_image, write_image
from rockzoom.generation.sheets import contact_sheet
from rockzoom.refiner.inference import Refiner
from rockzoom.util.hashing import file_sha256
from rockzoom.util.provenance import machine_description

logger = logging.getLogger(__name__)


def image_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in FORMATS)
    if not files:
        raise FileNotFoundError(f"{path}: no image files ({', '.join(sorted(FORMATS))})")
    return files


def refine_images(inputs: str | Path, out_dir: str | Path, *, model: str | Path, steps: int, seed: int,
                  eta: float = 0.0, patch: int = 128, overlap: int = 32, batch: int = 4, device: str = "auto",
                  sheet: str | Path | None = None, provenance: str | Path | None = None) -> dict:
    """Refine every image of ``inputs`` (a file or a folder) into ``out_dir`` under the same names."""
    refiner = Refiner.from_checkpoint(model, steps=steps, eta=eta, seed=seed, patch=patch, overlap=overlap,
                                      batch=batch, device=device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, outputs, seconds = image_files(inputs), [], 0.0
    for path in files:
        rgb, alpha = read_image(path)
        t0 = time.perf_counter()
        refined = refiner.refine(rgb.astype(np.float32) / 255.0)
        seconds += time.perf_counter() - t0
        out = np.rint(refined * 255.0).astype(np.uint8)
        write_image(out_dir / path.name, out, alpha)
        outputs.append(out)
        logger.info(f"refined {path.name} ({rgb.shape[1]}x{rgb.shape[0]}, {steps} DDIM steps)")
    info = {"inputs": str(inputs), "n": len(files), "steps": steps, "eta": eta, "seed": seed, "patch": patch,
            "overlap": overlap, "refiner": {"path": str(model), "sha256": file_sha256(model)},
            "seconds_per_image": seconds / len(files), "machine": machine_description()}
    if sheet is not None:
        contact_sheet(outputs, sheet)
    if provenance is not None:
        Path(provenance).parent.mkdir(parents=True, exist_ok=True)
        Path(provenance).write_text(json.dumps(info, indent=2))
    logger.info(f"refined {len(files)} images in {seconds:.1f} s ({seconds / len(files):.2f} s/image, {steps} steps)")
    return info
