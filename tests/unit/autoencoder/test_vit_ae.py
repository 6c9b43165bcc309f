import json

import numpy as np
import pytest
import torch

from rockzoom.autoencoder.evaluate import eval_autoencoder
from rockzoom.autoencoder.latents import extract_latents, load_latents
from rockzoom.autoencoder.loss import reconstruction_loss
from rockzoom.autoencoder.prior import fit_prior
from rockzoom.autoencoder.sampling import SAMPLERS, generate_samples
from rockzoom.autoencoder.task import AutoencoderTask, model_kwargs_for
from rockzoom.autoencoder.train import train_autoencoder
from rockzoom.data.store import load_split, save_split
from rockzoom.engine.state import state_dir_for
from rockzoom.models.vit_ae import ViTAutoencoder
from rockzoom.util.checkpoint import load_checkpoint

TINY = dict(embed_dim=32, depth=1, heads=2, mlp_ratio=2.0, dec_dim=32, dec_depth=1, dec_heads=2, head_channels=4)


@pytest.mark.parametrize(
    "img_size,patch_size,latent_grid,latent_channels",
    [(32, 8, 4, 2), (64, 8, 4, 4), (48, 8, 3, 2), (64, 4, 8, 2), (256, 16, 16, 2)],
)
def test_shapes_for_sizes_and_patches(img_size, patch_size, latent_grid, latent_channels):
    model = ViTAutoencoder(img_size=img_size, patch_size=patch_size, latent_grid=latent_grid,
                           latent_channels=latent_channels, coarse_size=8, **TINY)
    x = torch.rand(2, 3, img_size, img_size)
    z = model.encode(x)
    assert z.shape == (2, latent_grid**2 * latent_channels) == (2, model.latent_dim)
    y = model.decode(z)
    assert y.shape == x.shape
    y.mean().backward()
    assert model.patch_embed.weight.grad is not None and model.patch_embed.weight.grad.abs().sum() > 0


def test_default_latent_is_512_floats():
    assert ViTAutoencoder(**TINY).latent_dim == 512


def test_output_reaches_black_and_white():
    """No activation before the output: the old GELU->sigmoid floor (117/255) must be impossible."""
    model = ViTAutoencoder(img_size=32, patch_size=8, latent_grid=4, coarse_size=4, **TINY)
    torch.nn.init.zeros_(model.to_coarse.weight)
    x = torch.rand(2, 3, 32, 32)
    for level in (0.0, 1.0):
        torch.nn.init.constant_(model.to_coarse.bias, level)
        assert torch.equal(model.reconstruct(x), torch.full_like(x, level))


def test_position_embeddings_interpolate_to_other_sizes():
    model = ViTAutoencoder(img_size=64, patch_size=8, latent_grid=4, coarse_size=8, **TINY)
    assert model.encode(torch.rand(1, 3, 128, 128)).shape == (1, model.latent_dim)
    assert model.encode(torch.rand(1, 3, 32, 32)).shape == (1, model.latent_dim)


def test_bad_geometry_is_a_clear_error():
    with pytest.raises(ValueError, match="not a multiple of patch_size"):
        ViTAutoencoder(img_size=60, patch_size=8, **TINY)
    with pytest.raises(ValueError, match="not a multiple of latent_grid"):
        ViTAutoencoder(img_size=64, patch_size=8, latent_grid=3, **TINY)
    with pytest.raises(ValueError, match="token_grid"):
        model_kwargs_for({"token_grid": 5}, 64)


def test_masked_loss_ignores_nodata_pixels():
    target = torch.rand(2, 3, 16, 16)
    mask = torch.ones(2, 16, 16, dtype=torch.bool)
    mask[:, :, :5] = False
    pred = target + 0.1
    garbage = pred.clone()
    garbage[:, :, :, :5] = -7.0
    weights = {"l1": 1.0, "mse": 1.0, "ssim": 0.5}
    a, ta = reconstruction_loss(pred, target, mask, weights)
    b, tb = reconstruction_loss(garbage, target, mask, weights)
    assert float(a) == pytest.approx(float(b))
    assert ta["loss_l1"] == pytest.approx(0.1, rel=1e-4)
    with pytest.raises(ValueError, match="unknown terms"):
        reconstruction_loss(pred, target, mask, {"l2": 1.0})


def make_dataset(path, size=32, n=(12, 4, 4), seed=0):
    """Smooth random blobs with dark shadows and a no-data corner."""
    rng = np.random.default_rng(seed)
    for split, count in zip(("train", "val", "test"), n):
        base = rng.random((count, 4, 4, 3))
        images = np.stack([np.kron(b, np.ones((size // 4, size // 4, 1))) for b in base])
        images = (images * 255).astype(np.uint8)
        images[:, :3, :3] = 0  # shadows
        masks = np.ones(images.shape[:3], bool)
        masks[:, -4:, -4:] = False
        save_split(path, split, images, masks)
    (path / "summary.json").write_text(json.dumps({"manifest_hash": "abc"}))
    return path


ARCH = {
    "model": {"token_grid": 4, **TINY, "latent_grid": 4, "latent_channels": 2, "coarse_size": 8},
    "loss": {"l1": 1.0, "mse": 0.0, "ssim": 0.0},
    "val_images": 4,
    "pca_init": True,
    "engine": {"steps": 30, "batch_size": 4, "lr": 0.003, "warmup_steps": 2, "val_every": 10, "save_every": 10,
               "log_every": 10, "ema_decay": 0.5, "device": "cpu"},
}


def test_train_eval_and_latents_end_to_end(tmp_path):
    data = make_dataset(tmp_path / "data")
    model_out = tmp_path / "ae/vit-s32/model.pt"
    result = train_autoencoder(data, model_out, ARCH, seed=3, progress=False)
    assert state_dir_for(model_out) == tmp_path / "ae/vit-s32.state"
    assert (tmp_path / "ae/vit-s32/metrics.csv").exists() and (tmp_path / "ae/vit-s32/curve.png").exists()
    ckpt = torch.load(model_out, weights_only=True)
    assert ckpt["kind"] == "ae" and ckpt["data_hash"] == "abc" and ckpt["config"]["seed"] == 3
    assert ckpt["model_kwargs"]["patch_size"] == 8 and ckpt["step"] == result.best_step

    report = eval_autoencoder(model_out, data, tmp_path / "eval.json", tmp_path / "grid.png")
    table = report["metrics"]
    assert set(table) == {"autoencoder", "thumbnail_13x13x3", "mean_colour"}
    # smooth 4x4 blocks: the trained AE must clearly beat the per-tile mean colour
    assert table["autoencoder"]["psnr_pooled"] > table["mean_colour"]["psnr_pooled"] + 1
    assert report["autoencoder_range"]["dark_pixels"] > 0
    assert (tmp_path / "grid.png").stat().st_size > 0

    summary = extract_latents(model_out, data, tmp_path / "latents")
    assert summary["latent_dim"] == 32
    assert load_latents(tmp_path / "latents", "train").shape == (12, 32)
    assert load_checkpoint(model_out)["format_version"] == 1

    prior = tmp_path / "latents/prior.pt"
    fit_prior(tmp_path / "latents/train.npy", prior, tmp_path / "latents/prior.json",
              {"pca_dims": 4, "gmm_max_components": 2, "reg_covar": 1e-3}, seed=0)
    settings = {"n": 6, "temperature": 1.0, "perturb_sigma": 0.5, "flat_std": 0.02, "grid_columns": 3}
    for sampler in SAMPLERS:
        out = tmp_path / f"samples/{sampler}"
        report = generate_samples(model_out, prior, tmp_path / "latents", sampler, settings, 0, f"{out}.npy",
                                  f"{out}.png", f"{out}.json")
        images = np.load(f"{out}.npy")
        assert images.shape == (6, 32, 32, 3) and images.dtype == np.uint8
        assert json.loads(open(f"{out}.json").read())["checks"] == report["checks"]
        assert report["checks"]["value_min"] == int(images.min())
    with pytest.raises(ValueError, match="unknown keys \\['bogus'\\]"):
        generate_samples(model_out, prior, tmp_path / "latents", "gmm", {**settings, "bogus": 1}, 0, "a.npy", "a.png",
                         "a.json")


def test_task_batches_are_seeded_and_masked(tmp_path):
    data = make_dataset(tmp_path / "data")
    task = AutoencoderTask(load_split(data, "train"), load_split(data, "val"), ARCH["model"], ARCH["loss"], 4)
    a = task.sample_batch(0, torch.Generator().manual_seed(1), 6)
    b = task.sample_batch(0, torch.Generator().manual_seed(1), 6)
    assert torch.equal(a["images"], b["images"]) and torch.equal(a["masks"], b["masks"])
    assert a["images"].shape == (6, 3, 32, 32) and a["images"].dtype == torch.float32
    assert a["images"].max() <= 1 and (~a["masks"]).sum() == 6 * 16


@pytest.mark.parametrize("n,d", [(40, 12), (10, 30)])
def test_principal_components_match_sklearn(n, d):
    from sklearn.decomposition import PCA

    from rockzoom.autoencoder.task import principal_components

    data = torch.randn(n, d, generator=torch.Generator().manual_seed(0)) * torch.linspace(3, 0.5, d)
    mean, comps = principal_components(data, 5)
    ref = PCA(5).fit(data.double().numpy())
    assert torch.allclose(mean.double(), torch.from_numpy(ref.mean_), atol=1e-5)
    # same subspace, up to the sign of each component
    assert torch.allclose((comps.double() @ torch.from_numpy(ref.components_).T).abs(), torch.eye(5, dtype=torch.float64),
                          atol=1e-3)


def test_pca_init_starts_at_the_linear_reconstruction(tmp_path):
    data = make_dataset(tmp_path / "data")
    task = AutoencoderTask(load_split(data, "train"), load_split(data, "val"), ARCH["model"], ARCH["loss"], 4)
    torch.manual_seed(0)
    model = task.build_model().eval()
    random_init = ViTAutoencoder(**task.model_kwargs()).eval()
    with torch.no_grad():
        assert task.validate(model)["val_psnr"] > task.validate(random_init)["val_psnr"] + 3
