"""Multi-scale autoencoder: a conv pyramid encoder into the ViT's latent token map, a decoder with an image per level.

Encoder: levels at S, S/2, ..., S/2^(L-1) (``channels[i]`` feature channels at level i, a stride-2 2x2 conv between
levels), then the coarsest map is cut into ``latent_grid`` x ``latent_grid`` patches, mixed by a transformer and
projected to ``latent_channels`` per token: the same (latent_channels, latent_grid, latent_grid) map, flattened
channel-major to ``latent_dim`` floats, as ``ViTAutoencoder`` (512 by default).

Decoder: a transformer over the latent tokens, pixel-shuffled to the coarsest level; each level refines the features
(x2 pixel shuffle between levels) and emits an RGB residual over the upsampled image of the level below, so it
produces one image per level, coarsest first (S/4, S/2, S for three levels). A linear coarse image (as in the ViT)
is the floor of the coarsest level; as in the ViT, a linear encoder of the area-downsampled tile adds to the latent
and this pair can start as a PCA of the training tiles (``init_linear_path``). Every level is trained against the area-downsampled target (deep supervision).

Skips (optional): encoder features of each level added to the decoder's through a zero-initialised 1x1 conv. They
carry information the latent does not (they are a U-Net's shortcut around the bottleneck), so a reconstruction with
skips is NOT a 512-float code. ``encode``/``decode`` never use them: generation from a sampled latent and everything
that loads an autoencoder (``load_autoencoder``) measures the latent alone; ``reconstruct_levels(skips=True)`` is the
SR-style use. Training drops the skips per sample (``skip_keep``) so the decoder works both with and without them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.models.registry import AE_NETS
from rockzoom.models.vit_ae import LinearCoarsePath, grid_pos_embed, transformer


def area_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[S/2^(levels-1), ..., S/2, S] area-downsampled copies of ``images``, coarsest first (the deep-supervision
    targets)."""
    out = [images]
    for _ in range(levels - 1):
        out.insert(0, F.avg_pool2d(out[0], 2))
    return out


def mask_pyramid(masks: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Masks for ``area_pyramid``: a coarse pixel is valid only if every pixel it averages is valid."""
    out = [masks]
    for _ in range(levels - 1):
        out.insert(0, -F.max_pool2d(-out[0].float().unsqueeze(1), 2).squeeze(1) > 0.5)
    return out


@AE_NETS.register("multiscale")
class MultiScaleAutoencoder(LinearCoarsePath, nn.Module):
    def __init__(
        self,
        img_size: int = 256,
        channels: tuple[int, ...] | list[int] = (8, 16, 32),
        dim: int = 128,
        depth: int = 2,
        dec_depth: int = 2,
        heads: int = 4,
        mlp_ratio: float = 4.0,
        latent_grid: int = 16,
        latent_channels: int = 2,
        coarse_size: int = 32,
        skips: bool = True,
    ):
        super().__init__()
        channels = [int(c) for c in channels]
        levels = len(channels)
        if levels < 1:
            raise ValueError("multi-scale AE needs at least one level")
        coarsest = img_size // 2 ** (levels - 1)
        if coarsest * 2 ** (levels - 1) != img_size or coarsest % latent_grid:
            raise ValueError(f"img_size {img_size} / 2^{levels - 1} must be an integer multiple of latent_grid "
                             f"{latent_grid}")
        if dim % heads:
            raise ValueError(f"dim {dim} must be divisible by heads {heads}")
        self.img_size, self.levels, self.channels = img_size, levels, channels
        self.latent_grid, self.latent_channels, self.coarse_size = latent_grid, latent_channels, coarse_size
        self.patch = coarsest // latent_grid
        self.has_skips = skips

        self.stem = nn.Sequential(nn.Conv2d(3, channels[0], 3, padding=1), nn.GELU())
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels[i - 1], channels[i], 2, stride=2), nn.GELU(),
                          nn.Conv2d(channels[i], channels[i], 3, padding=1), nn.GELU())
            for i in range(1, levels)
        )
        self.to_tokens = nn.Conv2d(channels[-1], dim, self.patch, stride=self.patch)
        self.enc_pos = nn.Parameter(torch.randn(1, dim, latent_grid, latent_grid) * 0.02)
        self.encoder = transformer(dim, depth, heads, mlp_ratio)
        self.to_latent = nn.Linear(dim, latent_channels)
        self.add_linear_path(coarse_size)  # the linear path (as ViT)
        self.from_latent = nn.Linear(latent_channels, dim)
        self.dec_pos = nn.Parameter(torch.randn(1, dim, latent_grid, latent_grid) * 0.02)
        self.decoder = transformer(dim, dec_depth, heads, mlp_ratio)
        self.to_pixels = nn.Linear(dim, channels[-1] * self.patch**2)
        # Decoder levels, coarsest first: up (x2, except the coarsest), refine, RGB residual.
        self.up = nn.ModuleList(
            nn.Sequential(nn.Conv2d(channels[i + 1], channels[i] * 4, 1), nn.PixelShuffle(2))
            for i in reversed(range(levels - 1))
        )
        self.refine = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GELU()) for c in reversed(channels)
        )
        self.to_rgb = nn.ModuleList(nn.Conv2d(c, 3, 3, padding=1) for c in reversed(channels))
        for conv in self.to_rgb:  # each level starts as the upsampled level below; residuals grow from zero
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)
        if skips:
            self.skip = nn.ModuleList(nn.Conv2d(c, c, 1) for c in reversed(channels))
            for conv in self.skip:  # skips start closed: the latent path learns first
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)

    @property
    def latent_dim(self) -> int:
        return self.latent_grid**2 * self.latent_channels

    @property
    def level_sizes(self) -> list[int]:
        return [self.img_size // 2 ** (self.levels - 1 - i) for i in range(self.levels)]

    def encode_features(self, images: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(N, 3, S, S) in [0, 1] -> (latent (N, latent_dim), encoder features per level, coarsest first)."""
        n, _, h, w = images.shape
        if h != self.img_size or w != self.img_size:
            raise ValueError(f"multi-scale AE takes {self.img_size}px images, got {h}x{w}")
        feats = [self.stem(images * 2 - 1)]
        for down in self.down:
            feats.append(down(feats[-1]))
        tokens = self.to_tokens(feats[-1]).flatten(2).transpose(1, 2) + grid_pos_embed(self.enc_pos, self.latent_grid)
        latent = self.to_latent(self.encoder(tokens))  # (N, lg*lg, C)
        latent = latent.transpose(1, 2).reshape(n, self.latent_dim) + self.coarse_encoder(self.coarse_view(images))
        return latent, feats[::-1]

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encode_features(images)[0]

    def decode_levels(self, latent: torch.Tensor, skips: list[torch.Tensor] | None = None,
                      skip_keep: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Latent -> one unclamped image per level, coarsest first. ``skips``: encoder features (coarsest first) to
        add; ``skip_keep`` (N,): per-sample 0/1 weight on them (training drops them for part of each batch)."""
        n = latent.shape[0]
        if latent.shape[1] != self.latent_dim:
            raise ValueError(f"latent has {latent.shape[1]} dims, model expects {self.latent_dim}")
        if skips is not None and not self.has_skips:
            raise ValueError("this multi-scale AE was built without skips")
        lg = self.latent_grid
        coarse = self.to_coarse(latent).reshape(n, 3, self.coarse_size, self.coarse_size)
        image = F.interpolate(coarse, size=self.level_sizes[0], mode="bilinear", align_corners=False)
        tokens = latent.reshape(n, self.latent_channels, -1).transpose(1, 2)
        tokens = self.decoder(self.from_latent(tokens) + grid_pos_embed(self.dec_pos, lg))
        feats = self.to_pixels(tokens).transpose(1, 2).reshape(n, -1, lg, lg)
        feats = F.pixel_shuffle(feats, self.patch) if self.patch > 1 else feats
        images = []
        for level in range(self.levels):
            if level > 0:
                feats = self.up[level - 1](feats)
                image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            if skips is not None:
                shortcut = self.skip[level](skips[level])
                if skip_keep is not None:
                    shortcut = shortcut * skip_keep.to(shortcut.dtype).view(-1, 1, 1, 1)
                feats = feats + shortcut
            feats = self.refine[level](feats)
            image = image + self.to_rgb[level](feats)
            images.append(image)
        return images

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, 3, S, S), unclamped: the finest level, no skips (generation path)."""
        return self.decode_levels(latent)[-1]

    def forward_levels(self, images: torch.Tensor, skips: bool = False,
                       skip_keep: torch.Tensor | None = None) -> list[torch.Tensor]:
        latent, feats = self.encode_features(images)
        return self.decode_levels(latent, feats if skips else None, skip_keep)

    def forward(self, images: torch.Tensor, skips: bool = False, skip_keep: torch.Tensor | None = None,
                all_levels: bool = False):
        """Default: the reconstruction through the latent alone (what the 512 floats carry). ``all_levels``: the
        list of every level's image (training calls it this way, so DDP sees one forward)."""
        levels = self.forward_levels(images, skips=skips, skip_keep=skip_keep)
        return levels if all_levels else levels[-1]

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self(images).clamp(0, 1)

    @torch.no_grad()
    def reconstruct_levels(self, images: torch.Tensor, skips: bool = False) -> list[torch.Tensor]:
        return [x.clamp(0, 1) for x in self.forward_levels(images, skips=skips)]
