"""Every upscaler behind one interface, and seam-free tiled inference with memory bounded by the tile size.

``Upscaler.upscale(image)`` maps a float32 (H, W, 3) image in [0, 1] to float32 (H*s, W*s, 3) in [0, 1].
Classical methods (PIL bicubic a=-0.5, Lanczos a=3) resample each channel as a 32-bit float image, so nothing is
rounded to uint8 before the evaluator sees it. Learned nets are rebuilt from an ``sr``/``sr_gan`` checkpoint. torch is
imported only by the net path, so a classical upscale (a Lanczos pyramid job) does not pay its ~1 s import.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

CLASSICAL_METHODS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
SR_KINDS = ("sr", "sr_gan", "sr_perceptual")


class Upscaler(ABC):
    name: str
    scale: int

    @abstractmethod
    def upscale(self, image: np.ndarray) -> np.ndarray:
        """float32 (H, W, 3) in [0,1] -> float32 (H*scale, W*scale, 3) in [0,1]."""

    def upscale_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """``upscale`` of each of a batch of equal-sized images (a net runs them in one forward pass)."""
        return [self.upscale(im) for im in images]


class ClassicalUpscaler(Upscaler):
    def __init__(self, method: str, scale: int):
        if method not in CLASSICAL_METHODS:
            raise ValueError(f"unknown upscaling method {method!r}; expected one of {sorted(CLASSICAL_METHODS)}")
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.name, self.scale, self._filter = method, int(scale), CLASSICAL_METHODS[method]

    def upscale(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        size = (w * self.scale, h * self.scale)
        out = np.empty((size[1], size[0], image.shape[2]), np.float32)
        for c in range(image.shape[2]):
            out[..., c] = Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32)).resize(size, self._filter)
        return np.clip(out, 0.0, 1.0, out=out)


def pick_device(device: str = "auto") -> torch.device:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class NetUpscaler(Upscaler):
    """A trained SR net; fp32 on CPU, bf16 autocast on CUDA. ``self_ensemble``: average the outputs over the 8 flips
    and 90° rotations of the input (geometric self-ensemble, Lim et al. 2017; 8x the forward time)."""

    def __init__(self, model: torch.nn.Module, scale: int, name: str = "net", device: str = "auto",
                 self_ensemble: bool = False):
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.scale, self.self_ensemble = int(scale), bool(self_ensemble)
        self.name = name + ("+x8" if self_ensemble else "")

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", name: str | None = None,
                        self_ensemble: bool = False) -> NetUpscaler:
        from rockzoom.util.checkpoint import load_checkpoint

        return cls.from_payload(load_checkpoint(path), str(path), device=device, name=name,
                                self_ensemble=self_ensemble)

    @classmethod
    def from_payload(cls, payload: dict, path: str, device: str = "auto", name: str | None = None,
                     self_ensemble: bool = False) -> NetUpscaler:
        """From a loaded checkpoint dict (``path``: where it came from, for messages and the default name)."""
        from rockzoom.models.registry import SR_NETS

        if payload.get("kind") not in SR_KINDS:
            raise ValueError(f"{path}: checkpoint kind {payload.get('kind')!r} is not an SR model {SR_KINDS}")
        kwargs = dict(payload["model_kwargs"])
        model = SR_NETS.from_config(kwargs)
        model.load_state_dict(payload["state_dict"])
        suffix = {"sr_gan": "+gan", "sr_perceptual": "+perceptual"}.get(payload["kind"], "")
        default_name = Path(path).parent.name + suffix
        return cls(model, kwargs["scale"], name=name or default_name, device=device, self_ensemble=self_ensemble)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        with torch.no_grad(), autocast:
            return self.model(x).float()

    def upscale(self, image: np.ndarray) -> np.ndarray:
        return self.upscale_batch([image])[0]

    def upscale_batch(self, images: list[np.ndarray]) -> list[np.ndarray]:
        """One forward pass over the stacked batch (eight with the self-ensemble)."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32))
        x = x.to(self.device)
        if not self.self_ensemble:
            y = self._forward(x)
        else:
            y = 0
            for k in range(4):
                for flip in (False, True):
                    t = torch.rot90(x.flip(-1) if flip else x, k, (-2, -1))
                    out = torch.rot90(self._forward(t), -k, (-2, -1))
                    y = y + (out.flip(-1) if flip else out)
            y = y / 8
        return list(y.clamp_(0, 1).permute(0, 2, 3, 1).cpu().numpy())


def build_upscaler(method: str | None = None, checkpoint: str | Path | None = None, scale: int | None = None,
                   device: str = "auto", self_ensemble: bool = False, back_project: bool = False,
                   payload: dict | None = None) -> Upscaler:
    """From a classical method name (needs ``scale``) or from a trained checkpoint (scale comes from it;
    ``self_ensemble`` averages over the 8 dihedral transforms); ``back_project``: corrected so that the output's
    x scale box average equals the input (``rockzoom.superres.back_projection``); ``payload``: the checkpoint's
    contents, if the caller has already loaded it."""
    if (method is None) == (checkpoint is None):
        raise ValueError("give exactly one of method or checkpoint")
    if checkpoint is not None:
        from rockzoom.util.checkpoint import load_checkpoint

        upscaler = upscaler_from_payload(load_checkpoint(checkpoint) if payload is None else payload, checkpoint,
                                         device=device, self_ensemble=self_ensemble)
        if scale is not None and scale != upscaler.scale:
            raise ValueError(f"{checkpoint}: model upscales x{upscaler.scale}, x{scale} was asked for")
    elif scale is None:
        raise ValueError(f"method {method!r} needs a scale")
    else:
        upscaler = ClassicalUpscaler(method, scale)
    if back_project:
        from rockzoom.superres.back_projection import BackProjected

        upscaler = BackProjected(upscaler)
    return upscaler


def upscaler_from_payload(payload: dict, checkpoint: str | Path, device: str = "auto",
                          self_ensemble: bool = False) -> Upscaler:
    """The upscaler of an already loaded checkpoint ``payload`` (an SR net or its exemplar; ``checkpoint`` names it)."""
    if payload.get("kind") == "sr_exemplar":
        from rockzoom.superres.exemplar import ExemplarUpscaler

        return ExemplarUpscaler.from_payload(payload, str(checkpoint), device=device, self_ensemble=self_ensemble)
    return NetUpscaler.from_payload(payload, str(checkpoint), device=device, self_ensemble=self_ensemble)


def _to_float(tile: np.ndarray) -> np.ndarray:
    return tile.astype(np.float32) / 255.0 if tile.dtype == np.uint8 else tile.astype(np.float32, copy=False)


def tile_starts(length: int, tile: int) -> list[int]:
    return list(range(0, length, tile))


def tile_boxes(h: int, w: int, tile: int, overlap: int) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """The tiling of an (h, w) image: [((y0, y1, x0, x1) core, (py0, py1, px0, px1) core + context)], row by row.
    Every tiled path (in-memory arrays, GeoTIFF windows) cuts through this one function, so they agree pixel for
    pixel."""
    if tile < 1 or overlap < 0:
        raise ValueError(f"tile must be >= 1 and overlap >= 0, got tile={tile} overlap={overlap}")
    boxes = []
    for y0 in tile_starts(h, tile):
        y1 = min(y0 + tile, h)
        for x0 in tile_starts(w, tile):
            x1 = min(x0 + tile, w)
            padded = (max(y0 - overlap, 0), min(y1 + overlap, h), max(x0 - overlap, 0), min(x1 + overlap, w))
            boxes.append(((y0, y1, x0, x1), padded))
    return boxes


def upscale_core(upscaler: Upscaler, patch: np.ndarray, core: tuple[int, int, int, int],
                 padded: tuple[int, int, int, int], uint8: bool) -> np.ndarray:
    """Upscale one core + context ``patch`` and keep only the core (rounded to uint8 when asked)."""
    s = upscaler.scale
    (y0, y1, x0, x1), (py0, _, px0, _) = core, padded
    result = upscaler.upscale(_to_float(patch))
    kept = result[(y0 - py0) * s:(y1 - py0) * s, (x0 - px0) * s:(x1 - px0) * s]
    return np.rint(kept * 255.0).astype(np.uint8) if uint8 else kept


def upscale_tiled(upscaler: Upscaler, image: np.ndarray, tile: int = 256, overlap: int = 16,
                  out: np.ndarray | None = None, alpha: np.ndarray | None = None,
                  out_alpha: np.ndarray | None = None, progress_desc: str | None = None) -> np.ndarray:
    """Upscale ``image`` (H, W, 3; uint8 or float [0,1]) tile by tile into ``out`` (preallocated, may be a memmap).

    Each ``tile``² core is upscaled with ``overlap`` pixels of context on every side and only the core is kept, so
    the seams vanish once ``overlap`` covers the net's receptive field. A uint8 ``out`` is rounded tile by tile.
    ``alpha`` (H, W), if given, is upscaled separately by pixel replication into ``out_alpha``, so no-data stays
    no-data and valid pixels stay valid. ``progress_desc`` shows a progress bar over the tiles.
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {image.shape}")
    s = upscaler.scale
    h, w = image.shape[:2]
    boxes = tile_boxes(h, w, tile, overlap)
    if out is None:
        out = np.empty((h * s, w * s, 3), np.float32)
    if out.shape != (h * s, w * s, 3):
        raise ValueError(f"out has shape {out.shape}, expected {(h * s, w * s, 3)}")
    if alpha is not None:
        if alpha.shape != (h, w):
            raise ValueError(f"alpha has shape {alpha.shape}, expected {(h, w)}")
        if out_alpha is None or out_alpha.shape != (h * s, w * s):
            raise ValueError(f"out_alpha must be preallocated with shape {(h * s, w * s)}")
    if progress_desc is not None:
        from rockzoom.util.progress import progress

        boxes = progress(boxes, desc=progress_desc, unit="tile")
    for core, padded in boxes:
        (y0, y1, x0, x1), (py0, py1, px0, px1) = core, padded
        out[y0 * s:y1 * s, x0 * s:x1 * s] = upscale_core(upscaler, image[py0:py1, px0:px1], core, padded,
                                                         uint8=out.dtype == np.uint8)
        if alpha is not None:
            out_alpha[y0 * s:y1 * s, x0 * s:x1 * s] = alpha[y0:y1, x0:x1].repeat(s, 0).repeat(s, 1)
    return out


def upscale_file(in_path: str | Path, out_path: str | Path, upscaler: Upscaler, tile: int = 256,
                 overlap: int = 16, progress: bool = False, max_pixels: int | None = None) -> dict:
    """Read an image file (refused over ``max_pixels``, see ``read_image``), upscale it tile by tile (alpha
    separately), write the result; returns its sizes."""
    from rockzoom.data.image_files import image_format, read_image, write_image

    image_format(out_path)
    rgb, alpha = read_image(in_path, max_pixels=max_pixels)
    h, w = rgb.shape[:2]
    s = upscaler.scale
    out = np.empty((h * s, w * s, 3), np.uint8)
    out_alpha = np.empty((h * s, w * s), np.uint8) if alpha is not None else None
    upscale_tiled(upscaler, rgb, tile=tile, overlap=overlap, out=out, alpha=alpha, out_alpha=out_alpha,
                  progress_desc=Path(in_path).name if progress else None)
    del rgb
    write_image(out_path, out, out_alpha)
    return {"input": [h, w], "output": [h * s, w * s], "scale": s, "method": upscaler.name,
            "has_alpha": alpha is not None}
