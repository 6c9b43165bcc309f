import numpy as np
import pytest
import torch

from rockzoom.cli import main
from rockzoom.data.image_files import read_image, write_image
from rockzoom.metrics.fidelity import evaluate
from rockzoom.models.registry import SR_NETS
from rockzoom.superres.upscale import (
    ClassicalUpscaler,
    NetUpscaler,
    build_upscaler,
    upscale_tiled,
)
from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint


def _image(h=70, w=54, seed=0):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


@pytest.mark.parametrize("scale", [3, 4])
def test_tiled_equals_whole_for_a_net(scale):
    torch.manual_seed(0)
    upscaler = NetUpscaler(SR_NETS.build("rlfn", scale=scale), scale, device="cpu")
    image = _image()
    whole = upscaler.upscale(image)
    tiled = upscale_tiled(upscaler, image, tile=24, overlap=16)
    assert evaluate(tiled, whole, with_ssim=False)["psnr_pooled"] >= 60
    # without context the seams are visible: the overlap is what makes tiling exact
    seamy = upscale_tiled(upscaler, image, tile=24, overlap=0)
    assert evaluate(seamy, whole, with_ssim=False)["psnr_pooled"] < evaluate(tiled, whole, with_ssim=False)["psnr_pooled"]


def test_tiled_uint8_output_and_alpha_stays_nodata():
    image = (_image() * 255).astype(np.uint8)
    alpha = np.full(image.shape[:2], 255, np.uint8)
    alpha[10:30, 5:20] = 0
    up = ClassicalUpscaler("lanczos", 2)
    out = np.empty((140, 108, 3), np.uint8)
    out_alpha = np.empty((140, 108), np.uint8)
    upscale_tiled(up, image, tile=32, overlap=8, out=out, alpha=alpha, out_alpha=out_alpha)
    assert (out_alpha[20:60, 10:40] == 0).all()
    assert (out_alpha == alpha.repeat(2, 0).repeat(2, 1)).all()
    whole = np.rint(up.upscale(image.astype(np.float32) / 255) * 255)
    assert np.abs(out.astype(float) - whole).max() <= 1


def test_classical_upscalers_work_in_float():
    image = np.full((8, 8, 3), 0.3337, np.float32)  # not on the 1/255 grid
    for method in ("bicubic", "lanczos"):
        out = build_upscaler(method=method, scale=3).upscale(image)
        assert out.shape == (24, 24, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, 0.3337, atol=1e-6)
    with pytest.raises(ValueError, match="unknown upscaling method"):
        build_upscaler(method="nearest", scale=2)


def test_cli_upscale_with_a_checkpoint_keeps_alpha(tmp_path):
    torch.manual_seed(0)
    net = SR_NETS.build("rlfn", scale=2, n_blocks=1, n_feats=8)
    ckpt = tmp_path / "model.pt"
    save_checkpoint(ckpt, model_checkpoint(kind="sr", config={}, model_kwargs={"arch": "rlfn", "scale": 2,
                    "n_blocks": 1, "n_feats": 8}, state_dict=net.state_dict(), step=0, best_val=None, data_hash=""))
    rgb = (_image(40, 30) * 255).astype(np.uint8)
    alpha = np.full((40, 30), 255, np.uint8)
    alpha[:, :7] = 0
    write_image(tmp_path / "in.png", rgb, alpha)
    assert main(["upscale", str(tmp_path / "in.png"), str(tmp_path / "out.tif"), "--model", str(ckpt),
                 "--tile", "16", "--device", "cpu"]) == 0
    out_rgb, out_alpha = read_image(tmp_path / "out.tif")
    assert out_rgb.shape == (80, 60, 3)
    assert (out_alpha[:, :14] == 0).all() and (out_alpha[:, 14:] == 255).all()
    expected = NetUpscaler(net, 2, device="cpu").upscale(rgb.astype(np.float32) / 255)
    assert np.abs(out_rgb / 255.0 - expected).max() <= 0.5 / 255 + 1e-6


def test_bad_files_are_named(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        read_image(bad)
    with pytest.raises(ValueError, match="unsupported image type"):
        write_image(tmp_path / "x.gif", np.zeros((4, 4, 3), np.uint8))


class _Shift(torch.nn.Module):
    """Nearest x2 upscaling plus a position ramp: not rotation-equivariant, so the self-ensemble changes it."""

    def forward(self, x):
        y = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        ramp = torch.linspace(0, 0.2, y.shape[-1])
        return y + ramp


def test_self_ensemble_averages_the_eight_dihedral_outputs():
    image = _image(8, 8)
    plain = NetUpscaler(_Shift(), 2, device="cpu")
    ens = NetUpscaler(_Shift(), 2, device="cpu", self_ensemble=True)
    assert ens.name.endswith("+x8")
    up = image.repeat(2, 0).repeat(2, 1)
    ramp = np.linspace(0, 0.2, 16)[None, :, None]  # along x (width)
    np.testing.assert_allclose(plain.upscale(image), np.clip(up + ramp, 0, 1), atol=1e-6)
    # over the 8 orientations the ramp runs along +x, -x, +y and -y twice each: its mean is the constant 0.1; the
    # content is equivariant and comes back unchanged (the clamp comes after the average)
    np.testing.assert_allclose(ens.upscale(image), np.clip(up + 0.1, 0, 1), atol=1e-5)
