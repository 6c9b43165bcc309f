"""ViT autoencoder: a tile of any native size (a multiple of the patch) <-> a small latent token map.

Encoder: patch embedding + 2-D position embeddings (bicubically interpolated for other grids) + pre-norm
transformer blocks; the token grid is merged (space-to-depth + linear) into a ``latent_grid`` x ``latent_grid`` x
``latent_channels`` map, flattened to a ``latent_dim`` vector (default 16*16*2 = 512 floats).

A linear path runs beside the transformers: the latent also receives a linear projection of the area-downsampled
``coarse_size``² image, and the decoder's coarse image is a linear map of the latent. ``init_linear_path`` sets this
pair to the PCA of the training set's coarse images, so training starts at (better than) the thumbnail baseline
instead of climbing toward it; the transformer contribution to the latent starts at zero.

Decoder = linear coarse image + detail residual: the whole latent maps linearly to a ``coarse_size``² RGB image that is
bilinearly upsampled, and a transformer over the latent tokens
predicts, per token, a patch of feature pixels (PixelShuffle) that a small conv head turns into the RGB residual.
The output has no activation (it is clamped to [0, 1] only when images are produced), so black shadows and white
highlights are reachable, unlike the original decoder whose GELU-then-sigmoid floor was 117/255.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rockzoom.models.registry import AE_NETS


def transformer(dim: int, depth: int, heads: int, mlp_ratio: float) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        dim, heads, int(dim * mlp_ratio), dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim), enable_nested_tensor=False)


def grid_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """(1, D, g, g) position embeddings resized to ``grid`` (bicubic), as (1, grid*grid, D) tokens."""
    if pos.shape[-1] != grid:
        pos = F.interpolate(pos, size=(grid, grid), mode="bicubic", align_corners=False)
    return pos.flatten(2).transpose(1, 2)


class LinearCoarsePath:
    """The linear path shared by the ViT and multi-scale AEs: ``coarse_encoder`` (area-downsampled image -> latent),
    ``to_coarse`` (latent -> coarse image) and ``to_latent`` (the transformer's share of the latent)."""

    def add_linear_path(self, coarse_size: int) -> None:
        """The two linear maps (call after ``to_latent``, so parameter order and init RNG stay as they were)."""
        self.coarse_encoder = nn.Linear(3 * coarse_size * coarse_size, self.latent_dim)
        self.to_coarse = nn.Linear(self.latent_dim, 3 * coarse_size * coarse_size)
        nn.init.normal_(self.to_coarse.weight, std=0.01)
        nn.init.constant_(self.to_coarse.bias, 0.5)

    def coarse_view(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 3*coarse_size^2): the area-downsampled image the linear path sees."""
        return F.interpolate(images, size=(self.coarse_size, self.coarse_size), mode="area").flatten(1)

    @torch.no_grad()
    def init_linear_path(self, mean: torch.Tensor, components: torch.Tensor) -> None:
        """Start as a PCA autoencoder of the coarse image: ``components`` (k <= latent_dim, 3*coarse^2) orthonormal
        rows, ``mean`` (3*coarse^2). Unused latent dims start at zero; the transformer's share starts at zero."""
        k = components.shape[0]
        if k > self.latent_dim or components.shape[1] != self.coarse_encoder.in_features:
            raise ValueError(f"PCA components {tuple(components.shape)} do not fit latent {self.latent_dim} x "
                             f"{self.coarse_encoder.in_features}")
        self.coarse_encoder.weight.zero_()
        self.coarse_encoder.weight[:k] = components
        self.coarse_encoder.bias.zero_()
        self.coarse_encoder.bias[:k] = -components @ mean
        self.to_coarse.weight.zero_()
        self.to_coarse.weight[:, :k] = components.T
        self.to_coarse.bias.copy_(mean)
        self.to_latent.weight.zero_()
        self.to_latent.bias.zero_()


@AE_NETS.register("vit")
class ViTAutoencoder(LinearCoarsePath, nn.Module):
    def __init__(
        self,
        img_size: int = 256,
        patch_size: int = 16,
        embed_dim: int = 192,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: float = 4.0,
        latent_grid: int = 16,
        latent_channels: int = 2,
        dec_dim: int = 192,
        dec_depth: int = 4,
        dec_heads: int = 4,
        coarse_size: int = 32,
        head_channels: int = 8,
    ):
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f"img_size {img_size} is not a multiple of patch_size {patch_size}")
        grid = img_size // patch_size
        if grid % latent_grid:
            raise ValueError(f"token grid {grid} (= img_size/patch_size) is not a multiple of latent_grid {latent_grid}")
        if img_size % latent_grid:
            raise ValueError(f"img_size {img_size} is not a multiple of latent_grid {latent_grid}")
        if embed_dim % heads or dec_dim % dec_heads:
            raise ValueError("embed_dim/dec_dim must be divisible by heads/dec_heads")
        self.img_size, self.patch_size, self.grid = img_size, patch_size, grid
        self.latent_grid, self.latent_channels = latent_grid, latent_channels
        self.merge = grid // latent_grid
        self.pixels_per_token = img_size // latent_grid
        self.coarse_size = coarse_size

        self.patch_embed = nn.Conv2d(3, embed_dim, patch_size, stride=patch_size)
        self.enc_pos = nn.Parameter(torch.randn(1, embed_dim, grid, grid) * 0.02)
        self.encoder = transformer(embed_dim, depth, heads, mlp_ratio)
        self.to_latent = nn.Linear(embed_dim * self.merge**2, latent_channels)
        self.add_linear_path(coarse_size)

        self.from_latent = nn.Linear(latent_channels, dec_dim)
        self.dec_pos = nn.Parameter(torch.randn(1, dec_dim, latent_grid, latent_grid) * 0.02)
        self.decoder = transformer(dec_dim, dec_depth, dec_heads, mlp_ratio)
        self.to_pixels = nn.Linear(dec_dim, head_channels * self.pixels_per_token**2)
        self.head = nn.Sequential(
            nn.Conv2d(head_channels, head_channels, 3, padding=1), nn.GELU(), nn.Conv2d(head_channels, 3, 3, padding=1)
        )
        nn.init.zeros_(self.head[-1].weight)  # start as the coarse linear decoder; the residual grows from zero
        nn.init.zeros_(self.head[-1].bias)

    @property
    def latent_dim(self) -> int:
        return self.latent_grid**2 * self.latent_channels

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, latent_dim). Other sizes than img_size work (position embeddings are
        interpolated and the token grid is resampled to the model's), but reconstructions come out at img_size."""
        n, _, h, w = images.shape
        if h != w or h % self.patch_size:
            raise ValueError(f"encode expects square images, a multiple of {self.patch_size} px; got {h}x{w}")
        tokens = self.patch_embed(images * 2 - 1)
        grid = tokens.shape[-1]
        tokens = tokens.flatten(2).transpose(1, 2) + grid_pos_embed(self.enc_pos, grid)
        tokens = self.encoder(tokens)
        fmap = tokens.transpose(1, 2).reshape(n, -1, grid, grid)
        if grid != self.grid:
            fmap = F.interpolate(fmap, size=(self.grid, self.grid), mode="area" if grid > self.grid else "bilinear")
        merged = F.pixel_unshuffle(fmap, self.merge) if self.merge > 1 else fmap
        latent = self.to_latent(merged.flatten(2).transpose(1, 2))  # (N, lg*lg, C)
        return latent.transpose(1, 2).reshape(n, self.latent_dim) + self.coarse_encoder(self.coarse_view(images))

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, 3, img_size, img_size), unclamped."""
        n = latent.shape[0]
        if latent.shape[1] != self.latent_dim:
            raise ValueError(f"latent has {latent.shape[1]} dims, model expects {self.latent_dim}")
        coarse = self.to_coarse(latent).reshape(n, 3, self.coarse_size, self.coarse_size)
        coarse = F.interpolate(coarse, size=(self.img_size, self.img_size), mode="bilinear", align_corners=False)
        tokens = latent.reshape(n, self.latent_channels, -1).transpose(1, 2)
        tokens = self.from_latent(tokens) + grid_pos_embed(self.dec_pos, self.latent_grid)
        tokens = self.decoder(tokens)
        feats = self.to_pixels(tokens).transpose(1, 2).reshape(n, -1, self.latent_grid, self.latent_grid)
        detail = self.head(F.pixel_shuffle(feats, self.pixels_per_token))
        return coarse + detail

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(images))

    @torch.no_grad()
    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        return self(images).clamp(0, 1)
