"""Image grids for people to look at: contact sheets of samples."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def contact_sheet(images: list[np.ndarray], path: str | Path, sheet_width: int = 2048, columns: int = 4,
                  gap: int = 4) -> None:
    """Thumbnails in a grid; each thumbnail is sheet_width/columns wide, so the sheet stays small at any size."""
    columns = max(1, min(columns, len(images)))
    cell = sheet_width // columns - gap
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (cell + gap) + gap, rows * (cell + gap) + gap), (255, 255, 255))
    for i, im in enumerate(images):
        thumb = Image.fromarray(im).resize((cell, cell), Image.Resampling.LANCZOS)
        sheet.paste(thumb, (gap + (i % columns) * (cell + gap), gap + (i // columns) * (cell + gap)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
