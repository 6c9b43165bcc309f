"""ProGAN SWD on Laplacian-pyramid patches."""
import numpy as np
from PIL import Image
from texture_data import textures

from rockzoom.metrics.texture import laplacian_pyramid, swd

NET = {"base_channels": 8, "channel_mults": [1, 2], "blocks_per_level": 1, "attention_heads": 2,
       "pixel_unshuffle": 2}


def test_swd_on_laplacian_patches():
    hr = textures(4, 64, 0)
    blurred = np.stack([np.asarray(Image.fromarray(h).resize((16, 16)).resize((64, 64), Image.Resampling.BICUBIC))
                        for h in hr])
    same = swd(hr, hr)
    assert same["swd"] == 0 and len(same["swd_levels"]) == 3  # 64, 32, 16 px
    blur = swd(blurred, hr)
    assert blur["swd_levels"][0] > 10 and blur["swd"] > 0
    assert swd(blurred, hr, seed=0) == blur  # seeded
    mask = np.ones(hr.shape[:3], bool)
    mask[:, :20] = False
    garbage = blurred.copy()
    garbage[:, :20] = 0  # no-data pixels of the prediction do not count
    np.testing.assert_allclose(swd(garbage, hr, mask)["swd"], swd(blurred, hr, mask)["swd"])
    # the Laplacian pyramid reconstructs the image exactly
    pyr = laplacian_pyramid(hr[:1].astype(np.float32), 3)
    from rockzoom.metrics.texture import pyr_up
    rec = pyr[2]
    for lvl in (1, 0):
        rec = pyr[lvl] + pyr_up(rec, pyr[lvl].shape[1:3])
    np.testing.assert_allclose(rec, hr[:1], atol=1e-3)
