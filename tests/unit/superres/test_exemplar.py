"""Exemplar detail (rockzoom.superres.exemplar): caps, the known answer on its own ground, LR consistency, the
checkpoint round trip through build_upscaler."""
import numpy as np
import pytest
import torch

from rockzoom.models.registry import SR_NETS
from rockzoom.scene.ground import GroundIndex
from rockzoom.superres.exemplar import (
    GAP,
    ExemplarSettings,
    ExemplarUpscaler,
    exemplar_canvas,
    net_rendering,
)
from rockzoom.superres.upscale import NetUpscaler


def _ground(n_side=3, size=64, seed=0):
    """A textured ground of n_side x n_side samples of ``size`` px: blobs with shadows and grain."""
    rng = np.random.default_rng(seed)
    h = w = n_side * size
    yy, xx = np.mgrid[:h, :w]
    img = np.full((h, w), 120.0)
    for _ in range(60):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(3, 9)
        img += 60 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        img -= 40 * np.exp(-((yy - cy - r) ** 2 + (xx - cx - r) ** 2) / (2 * r * r))
    img += rng.normal(0, 12, img.shape)
    rgb = np.clip(np.stack([img, img * 0.95, img * 0.85], -1), 0, 255).astype(np.uint8)
    images = np.stack([rgb[y:y + size, x:x + size] for y in range(0, h, size) for x in range(0, w, size)])
    origins = np.array([(y, x) for y in range(0, h, size) for x in range(0, w, size)])
    return images, np.ones(images.shape[:3], bool), origins


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return NetUpscaler(SR_NETS.build("rlfn", scale=4, n_blocks=1, n_feats=8), 4, device="cpu")


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError, match="patch"):
        ExemplarSettings(patch=4)
    with pytest.raises(ValueError, match="gain"):
        ExemplarSettings(gain=-1)
    with pytest.raises(ValueError, match="projection must be exact or smooth"):
        ExemplarSettings(projection="blocky")
    with pytest.raises(ValueError, match="unknown exemplar settings: \\['bogus'\\]"):
        ExemplarSettings.from_config({"bogus": 1})


def test_canvas_keeps_at_most_max_windows_apart():
    images, masks, origins = _ground(n_side=4)
    canvas, valid, picked = exemplar_canvas(GroundIndex.from_arrays(images, masks, origins), window=64, max_windows=3, min_valid=1.0,
                                            scale=4)
    assert len(picked) == 3
    assert canvas.shape[:2] == (2 * 64 + GAP, 2 * 64 + GAP)  # a 2 x 2 grid, one cell empty
    assert valid.sum() == 3 * 64 * 64
    assert not valid[64:64 + GAP].any() and not valid[:, 64:64 + GAP].any()


def test_detail_recovers_its_own_ground(net):
    """An input that is a box-averaged window of the exemplar ground: the net renders it as it rendered the
    canvas, the match is exact, and net + (real - rendering) is the real window (away from the borders)."""
    images, masks, origins = _ground()
    canvas, valid, _ = exemplar_canvas(GroundIndex.from_arrays(images, masks, origins), window=192, max_windows=1, min_valid=1.0,
                                       scale=4)
    rendering = net_rendering(net, canvas)
    st = ExemplarSettings(key_stride=1, back_project=False)
    up = ExemplarUpscaler(net, canvas, rendering, valid, st)
    lr = canvas.reshape(48, 4, 48, 4, 3).mean((1, 3)) / 255.0
    out = up.upscale(lr.astype(np.float32))
    plain = net.upscale(lr.astype(np.float32))
    inner = (slice(24, -24), slice(24, -24))
    real = canvas.astype(np.float64) / 255

    def psnr(a):
        return 10 * np.log10(1 / ((a[inner] - real[inner]) ** 2).mean())

    assert psnr(out) > 40 > psnr(plain) + 10


def test_back_projection_and_determinism(net):
    images, masks, origins = _ground(seed=1)
    canvas, valid, _ = exemplar_canvas(GroundIndex.from_arrays(images, masks, origins), window=128, max_windows=2, min_valid=1.0,
                                       scale=4)
    up = ExemplarUpscaler(net, canvas, net_rendering(net, canvas), valid, ExemplarSettings())
    other, *_ = _ground(seed=2)
    lr = other[0].reshape(16, 4, 16, 4, 3).mean((1, 3)).astype(np.float32) / 255
    a, b = up.upscale(lr), up.upscale(lr)
    assert a.shape == (64, 64, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    back = a.reshape(16, 4, 16, 4, 3).mean((1, 3))
    assert np.abs(back - lr).max() < 1e-4 or ((back - lr) ** 2).mean() < 1e-8


def test_checkpoint_round_trip_through_build_upscaler(tmp_path, net):
    from rockzoom.superres.upscale import build_upscaler
    from rockzoom.util.checkpoint import model_checkpoint, save_checkpoint

    images, masks, origins = _ground(seed=3)
    canvas, valid, _ = exemplar_canvas(GroundIndex.from_arrays(images, masks, origins), window=128, max_windows=2, min_valid=1.0,
                                       scale=4)
    net_ckpt = tmp_path / "net.pt"
    save_checkpoint(net_ckpt, model_checkpoint(kind="sr", config={}, model_kwargs={"arch": "rlfn", "scale": 4,
                                                                                   "n_blocks": 1, "n_feats": 8},
                                               state_dict=net.model.state_dict(), step=0, best_val=None,
                                               data_hash=""))
    from rockzoom.util.checkpoint import load_checkpoint

    path = tmp_path / "exemplar" / "model.pt"
    save_checkpoint(path, {"kind": "sr_exemplar", "net": load_checkpoint(net_ckpt),
                           "settings": {"gain": 0.5}, "info": {},
                           "source": torch.from_numpy(canvas), "rendering": torch.from_numpy(net_rendering(net, canvas)),
                           "mask": torch.from_numpy(valid)})
    up = build_upscaler(checkpoint=path, scale=4, device="cpu")
    assert isinstance(up, ExemplarUpscaler) and up.settings.gain == 0.5 and up.scale == 4
    direct = ExemplarUpscaler(net, canvas, net_rendering(net, canvas), valid, ExemplarSettings(gain=0.5))
    lr = np.random.default_rng(0).random((16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(up.upscale(lr), direct.upscale(lr), atol=1e-6)


def test_coherence_favours_neighbours_shifted_matches():
    """The local search with coherence keeps more pixels whose right neighbour matched the next source pixel."""
    from rockzoom.scene.field_synthesis import SourceLevel, _local, _to_tensor

    rng = np.random.default_rng(0)
    src = _to_tensor(rng.integers(0, 256, (48, 48, 3)).astype(np.uint8))
    level = SourceLevel(src, torch.ones(1, 1, 48, 48), (48, 48), 5, 8, torch.Generator().manual_seed(0))
    query = level.features(_to_tensor(rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)))
    start = level.centres[torch.randint(0, len(level.centres), (24, 24), generator=torch.Generator().manual_seed(1))]

    def coherent(c):
        field = start
        for _ in range(4):
            field = _local(query, level, field, 1, 2, torch.Generator().manual_seed(2), 4096, coherence=c)
        return (field[:, 1:] == field[:, :-1] + 1).float().mean().item()

    with_coherence, without = coherent(10.0), coherent(0.0)
    assert with_coherence > 3 * without and with_coherence > without + 0.1
