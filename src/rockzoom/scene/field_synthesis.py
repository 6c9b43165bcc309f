"""Coarse-to-fine patch synthesis from one source canvas, kept as a correspondence field.

GPNN (Granot et al., CVPR 2022) makes new images from one source: per pyramid level (coarsest first) every patch of
the current image (query) is replaced by its nearest source patch, overlapping patches are averaged, and the result
is upsampled to the next level. Here every output pixel also keeps *where in the source* its patch came from (the
field), which gives three things:

- at the coarse levels (few queries and keys) the match is exhaustive, with GPNN's completeness normalisation
  d(q, k) / (alpha + min_q d(q, k)) (``texture.patch_synthesis.nearest``), so the layout is a reshuffle of the whole
  source: whole boulders with their shadows move together, since a 7 px patch of a 1/8 level spans 56 px of ground;
- at the fine levels the field is upsampled and refined by a local search (PatchMatch-style: a window around the
  upsampled match, the neighbours' matches shifted by one pixel, a few random jumps), so memory and time grow with
  the output, not with the product of output and source;
- the image of a level is voted from the source pixels the field points to (centre-weighted), so where neighbouring
  pixels point to neighbouring source pixels (inside one stone) the result is the source's pixels, crisp, and only
  the joins between pieces are blended.

Matching uses the leading principal components of each level's source patches (computed as a convolution, so no
patch array is ever unfolded). The source is a canvas with a validity mask: several training windows side by side,
or one window of training ground with holes, where a patch qualifies only when it lies wholly on valid pixels.

Deterministic for a seed (with a fixed number of torch threads).
"""
from __future__ import annotations

import math
import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from rockzoom.scene.settings import FieldSettings, level_scales
from rockzoom.texture.patch_synthesis import nearest

INF = float("inf")


def _shape(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    return max(1, int(round(shape[0] * scale))), max(1, int(round(shape[1] * scale)))


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(image[..., :3], dtype=np.float32)).permute(2, 0, 1)[None]
    return t / 127.5 - 1.0


def to_uint8(t: torch.Tensor) -> np.ndarray:
    return ((t[0].permute(1, 2, 0) + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def resize(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(shape):
        return x
    shrink = shape[0] < x.shape[-2]
    return F.interpolate(x, size=shape, mode="bicubic", align_corners=False, antialias=shrink).clamp(-1, 1)


class SourceLevel:
    """One pyramid level of the source canvas: values (the level image), keys (blurred one level), the valid patch
    centres, and (``table``) either as PCA features indexed by patch centre (invalid centres hold garbage)."""

    def __init__(self, image: torch.Tensor, mask: torch.Tensor, blur_shape: tuple[int, int], patch: int, dims: int,
                 gen: torch.Generator, basis_samples: int = 4096):
        self.values = image
        self.keys = resize(resize(image, blur_shape), tuple(image.shape[-2:]))
        c = patch // 2
        h, w = image.shape[-2:]
        # a centre is valid when the patch and one pixel around it (the blur's reach) lie on valid pixels
        reach = patch + 2
        ok = -F.max_pool2d(-mask, reach, stride=1, padding=reach // 2)[0, 0] > 0.5
        ok[:c, :] = False
        ok[h - c:, :] = False
        ok[:, :c] = False
        ok[:, w - c:] = False
        self.valid = ok
        self.centres = ok.flatten().nonzero()[:, 0]
        if len(self.centres) == 0:
            raise ValueError(f"a {h}x{w} source level holds no fully valid {patch} px patch")
        self.shape = (h, w)
        self.patch = patch
        self.basis = self._basis(dims, gen, basis_samples)
        self._tables: dict[bool, tuple[torch.Tensor, torch.Tensor]] = {}

    def table(self, keys: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(features (h * w, D) row-major by patch centre, their squared norms (h * w,)) of the keys (blurred)
        or the values; built on first use."""
        if keys not in self._tables:
            f = self.features(self.keys if keys else self.values)
            f = f.reshape(f.shape[0], -1).T.contiguous()
            self._tables[keys] = f, (f * f).sum(1)
        return self._tables[keys]

    def _basis(self, dims: int, gen: torch.Generator, n: int) -> torch.Tensor:
        p = self.patch
        pick = self.centres[torch.randint(0, len(self.centres), (min(n, len(self.centres)),), generator=gen)]
        ys, xs = pick // self.shape[1], pick % self.shape[1]
        r = torch.arange(p) - p // 2
        patches = self.values[0][:, ys[:, None, None] + r[None, :, None], xs[:, None, None] + r[None, None, :]]
        x = patches.permute(1, 0, 2, 3).reshape(len(pick), -1).double()
        x = (x - x.mean(0, keepdim=True)).numpy()
        with threadpool_limits(1):  # a 147 x 147 problem: threads only contend
            _, vecs = np.linalg.eigh(x.T @ x)  # ascending eigenvalues
        d = min(dims, x.shape[1])
        return torch.from_numpy(vecs[:, ::-1][:, :d].T.copy()).float().reshape(d, 3, p, p).contiguous()

    def features(self, image: torch.Tensor) -> torch.Tensor:
        """(D, H, W) features of the patch centred at every pixel (replicate padding at the border)."""
        c = self.patch // 2
        return F.conv2d(F.pad(image, (c, c, c, c), mode="replicate"), self.basis)[0]


def vote(src: torch.Tensor, field: torch.Tensor, patch: int, sigma: float, band: int = 65536) -> torch.Tensor:
    """The image whose pixel (y, x) is the weighted mean of what each patch covering it carries there: the patch
    centred at (y - dy, x - dx) brings src[field[y - dy, x - dx] + (dy, dx)] with weight exp(-(dy² + dx²) / 2 sigma²).
    field: (H, W) flat source indices of valid patch centres (the whole patch inside src (1, 3, hs, ws)); sigma 0:
    each pixel takes its own centre's source pixel. Works in bands of about ``band`` pixels (bounded memory)."""
    ws = src.shape[-1]
    s = src[0].reshape(3, -1)
    h, w = field.shape
    if sigma <= 0:
        return s[:, field.flatten()].reshape(1, 3, h, w)
    patch = min(patch, 2 * math.ceil(2 * sigma) + 1)  # taps beyond 2 sigma weigh < 14% of the centre's
    c = patch // 2
    r = torch.arange(-c, c + 1)
    g = torch.exp(-(r.float() ** 2) / (2 * sigma * sigma))
    wgt = g[:, None] * g[None, :]
    offs = (r[:, None] * ws + r[None, :]).flatten()
    acc = torch.zeros(3, h + 2 * c, w + 2 * c)
    rows = max(1, band // w)
    for y0 in range(0, h, rows):
        f = field[y0:y0 + rows]
        n = f.shape[0]
        patches = s[:, (f.flatten()[:, None] + offs[None, :])] * wgt.flatten()  # (3, n*w, p*p)
        cols = patches.permute(0, 2, 1).reshape(1, 3 * patch * patch, n * w)
        acc[:, y0:y0 + n + 2 * c] += F.fold(cols, (n + 2 * c, w + 2 * c), patch)[0]
    ones = wgt.flatten()[None, :, None].expand(1, patch * patch, h * w)
    wsum = F.fold(ones, (h + 2 * c, w + 2 * c), patch)[0]
    return (acc[:, c:c + h, c:c + w] / wsum[:, c:c + h, c:c + w])[None]


def _exhaustive(query: torch.Tensor, level: SourceLevel, first: bool, alpha: float) -> torch.Tensor:
    feats, _ = level.table(keys=first)
    keys = feats[level.centres]
    q = query.reshape(query.shape[0], -1).T.contiguous()
    idx = nearest(q, keys, alpha=alpha if alpha > 0 else None)
    return level.centres[idx].reshape(query.shape[1:])


def _local(query: torch.Tensor, level: SourceLevel, field: torch.Tensor, radius: int, jumps: int,
           gen: torch.Generator, chunk: int, coherence: float = 0.0) -> torch.Tensor:
    """One PatchMatch-style pass against the values: each pixel keeps the best of a window of +-radius around its
    current match, its four neighbours' matches shifted by one pixel and ``jumps`` random jumps (radii halving from
    a quarter of the source). Candidates are flat source indices; invalid ones (off the source or its valid
    centres) never win. ``coherence`` > 0 favours the neighbours' shifted matches and the current match (image
    analogies' kappa): their squared distance counts divided by 1 + coherence."""
    feats, norms = level.table(keys=False)
    valid = level.valid.flatten()
    hs, ws = level.shape
    h, w = field.shape
    r = torch.arange(-radius, radius + 1)
    offs = (r[:, None] * ws + r[None, :]).flatten()
    cands = [field[..., None] + offs]
    for sy, sx in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # neighbour (y + sy, x + sx) matched m: take m - (sy, sx)
        cands.append((torch.roll(field, (-sy, -sx), (0, 1)) - (sy * ws + sx))[..., None])
    reach = max(hs, ws) / 4
    for _ in range(jumps):
        j = ((torch.rand((h, w, 2), generator=gen) * 2 - 1) * reach).round().long()
        cands.append((field + j[..., 0] * ws + j[..., 1])[..., None])
        reach = max(1.0, reach / 2)
    cand = torch.cat(cands, -1).reshape(h * w, -1)
    ok = (cand >= 0) & (cand < hs * ws)
    cand.clamp_(0, hs * ws - 1)
    ok &= valid[cand]
    q = query.reshape(query.shape[0], -1).T.contiguous()  # (h * w, D)
    best = torch.empty(h * w, dtype=torch.long)
    for s in range(0, h * w, chunk):
        cc = cand[s:s + chunk]
        # |f - q|^2 minus the query's own |q|^2 (the same for all its candidates)
        d = norms[cc] - 2 * torch.bmm(feats[cc], q[s:s + chunk, :, None])[..., 0]
        if coherence > 0:
            n_win = offs.numel()
            d = d + (q[s:s + chunk] ** 2).sum(1, keepdim=True)  # the true squared distance
            d[:, n_win:n_win + 4] /= 1.0 + coherence  # the neighbours' shifted matches
            d[:, n_win // 2] /= 1.0 + coherence  # and the current one (else neighbours swap matches each pass)
        d.masked_fill_(~ok[s:s + chunk], INF)
        best[s:s + chunk] = cc.gather(1, d.argmin(1, keepdim=True))[:, 0]
    lost = ~ok.any(1)  # no valid candidate at all: a random valid centre
    if lost.any():
        best[lost] = level.centres[torch.randint(0, len(level.centres), (int(lost.sum()),), generator=gen)]
    return best.reshape(h, w)


def _upsample_field(field: torch.Tensor, src_from: tuple[int, int], src_to: tuple[int, int],
                    out_to: tuple[int, int]) -> torch.Tensor:
    """A level's field carried to the next: each fine pixel follows its coarse pixel's match, offset by where it
    lies inside that coarse pixel, in the finer source's coordinates."""
    h0, w0 = field.shape
    h1, w1 = out_to
    ws0 = src_from[1]
    fy0, fx0 = (field // ws0).float(), (field % ws0).float()
    yc = (torch.arange(h1, dtype=torch.float32) + 0.5) * h0 / h1 - 0.5
    xc = (torch.arange(w1, dtype=torch.float32) + 0.5) * w0 / w1 - 0.5
    yi, xi = yc.round().clamp(0, h0 - 1).long(), xc.round().clamp(0, w0 - 1).long()
    u0 = fy0[yi][:, xi] + (yc - yi)[:, None]
    v0 = fx0[yi][:, xi] + (xc - xi)[None, :]
    ry, rx = src_to[0] / src_from[0], src_to[1] / src_from[1]
    u1 = ((u0 + 0.5) * ry - 0.5).round().long().clamp(0, src_to[0] - 1)
    v1 = ((v0 + 0.5) * rx - 0.5).round().long().clamp(0, src_to[1] - 1)
    return u1 * src_to[1] + v1


def synthesize_field(source: np.ndarray, mask: np.ndarray | None, out_shape: tuple[int, int], *,
                     settings: FieldSettings = FieldSettings(), seed: int = 0,
                     return_field: bool = False):
    """A new uint8 (out_h, out_w, 3) image made of the pieces of ``source`` (uint8 (H, W, 3), ``mask`` bool (H, W),
    True = valid), seeded. The levels share the output's and the source's proportions: level scale s makes the
    output s * out_shape and the source s * its shape. return_field: also the finest field (flat source indices of
    each output pixel's patch centre, (out_h, out_w))."""
    st = settings
    gen = torch.Generator().manual_seed(int(seed))
    src = _to_tensor(np.asarray(source))
    m = torch.ones(1, 1, *src.shape[-2:]) if mask is None else torch.from_numpy(np.asarray(mask, bool))[None, None]
    m = m.float()
    src_shape = tuple(src.shape[-2:])
    scales = level_scales(st.coarse, st.factor)
    field, cur, prev_src = None, None, None
    for li, scale in enumerate(scales):
        s_shape = _shape(src_shape, scale)
        o_shape = _shape(out_shape, scale)
        s_img = resize(src, s_shape)
        s_mask = (F.interpolate(m, size=s_shape, mode="area") > 0.999).float() if scale < 1 else m
        blur_scale = scales[li - 1] if li else scale * st.factor
        level = SourceLevel(s_img, s_mask, _shape(src_shape, blur_scale), st.patch, st.pca_dims, gen)
        if field is None:
            cur = _start(s_img, level, o_shape, st, gen)
        else:
            field = _upsample_field(field, prev_src, s_shape, o_shape)
            # the next level starts sharp, from the source pixels the carried field points to ("field"), or from
            # the current image upsampled ("image", as GPNN)
            cur = vote(level.values, field, st.patch, max(st.sigma, 1.0)) if st.carry == "field" else \
                resize(cur, o_shape)
        exhaustive = o_shape[0] * o_shape[1] * len(level.centres) <= st.exhaustive_max
        iters = st.coarse_iterations if exhaustive or field is None else st.fine_iterations
        for it in range(iters):
            query = level.features(cur)
            first = it == 0
            if exhaustive or field is None:
                field = _exhaustive(query, level, first, st.alpha)
            else:
                field = _local(query, level, field, st.radius, st.random_jumps, gen, st.chunk)
            cur = vote(level.values, field, st.patch, st.sigma if li == len(scales) - 1 else max(st.sigma, 1.0))
        prev_src = s_shape
    out = to_uint8(cur)
    return (out, field) if return_field else out


def _start(s_img: torch.Tensor, level: SourceLevel, o_shape: tuple[int, int], st: FieldSettings,
           gen: torch.Generator) -> torch.Tensor:
    """The coarsest start plus noise: a random window of the source level the output's size (``crop``) or the mean
    colour of its valid pixels (``noise``); ``auto`` crops when the source level has at least twice the output's
    area (a crop of a source no larger than the output would be the source itself, and the result close to it)."""
    hs, ws = s_img.shape[-2:]
    h, w = o_shape
    init = st.init
    if init == "auto":
        init = "crop" if hs * ws >= 2 * h * w and h <= hs and w <= ws else "noise"
    if init == "noise" or h > hs or w > ws:
        valid = F.max_pool2d(level.valid[None, None].float(), level.patch, stride=1, padding=level.patch // 2)[0]
        base = (s_img[0] * valid).sum((1, 2)) / valid.sum().clamp_min(1)
        base = base[None, :, None, None].expand(1, 3, h, w)
    else:
        y = int(torch.randint(0, hs - h + 1, (1,), generator=gen))
        x = int(torch.randint(0, ws - w + 1, (1,), generator=gen))
        base = s_img[..., y:y + h, x:x + w]
    if st.shuffle:
        base = _shuffle_blocks(base, st.shuffle, gen)
    return base + st.noise * torch.randn((1, 3, h, w), generator=gen)


def _shuffle_blocks(x: torch.Tensor, block: int, gen: torch.Generator) -> torch.Tensor:
    """(1, C, H, W) with its whole ``block`` px blocks permuted (a border narrower than a block stays)."""
    h, w = x.shape[-2:]
    ny, nx = h // block, w // block
    if ny * nx < 2:
        return x
    out = x.clone()
    order = torch.randperm(ny * nx, generator=gen)
    for dst, src in enumerate(order.tolist()):
        dy, dx = divmod(dst, nx)
        sy, sx = divmod(src, nx)
        out[..., dy * block:(dy + 1) * block, dx * block:(dx + 1) * block] = \
            x[..., sy * block:(sy + 1) * block, sx * block:(sx + 1) * block]
    return out
