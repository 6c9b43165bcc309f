"""SR training pairs: antialiased bicubic LR, conservative masks, aligned patches."""
import numpy as np
import pytest
import torch

from rockzoom.data.store import load_split
from rockzoom.superres.data import (
    downsample_bicubic_aa,
    downsample_mask,
    make_pairs,
    sample_patches,
)


def test_lr_is_antialiased_bicubic_and_masks_shrink_conservatively():
    flat = np.full((12, 12, 3), 0.25, np.float32)
    np.testing.assert_allclose(downsample_bicubic_aa(flat, 3), 0.25, atol=1e-6)
    stripes = np.zeros((32, 32, 3), np.float32)
    stripes[:, ::2] = 1.0  # Nyquist pattern: an antialiased kernel averages it out, plain decimation would not
    np.testing.assert_allclose(downsample_bicubic_aa(stripes, 4)[4:-4, 4:-4], 0.5, atol=1e-3)
    mask = np.ones((1, 4, 4), bool)
    mask[0, 0, 1] = False
    assert downsample_mask(mask, 2).tolist() == [[[False, True], [True, True]]]
    with pytest.raises(ValueError, match="not divisible"):
        downsample_bicubic_aa(flat, 5)


def test_patches_are_aligned_and_masked(data_dir):
    pairs = make_pairs(load_split(data_dir, "train"), 2)
    batch = sample_patches(pairs, 8, 16, torch.Generator().manual_seed(0))
    assert batch["lr"].shape == (16, 3, 8, 8) and batch["hr"].shape == (16, 3, 16, 16)
    assert batch["mask"].shape == (16, 1, 16, 16) and (batch["mask"] == 0).any()
    # LR is the downsampled HR under the same dihedral transform: upsampled LR correlates with HR
    up = torch.nn.functional.interpolate(batch["lr"], scale_factor=2, mode="bilinear")
    shuffled = batch["hr"].roll(1, dims=0)
    assert (up - batch["hr"]).abs().mean() < 0.5 * (up - shuffled).abs().mean()
