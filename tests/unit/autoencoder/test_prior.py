import numpy as np
import pytest
import torch

from rockzoom.autoencoder.prior import fit_prior, load_prior
from rockzoom.autoencoder.sampling import SAMPLERS, sample_checks, sample_latents, slerp

CFG = {"pca_dims": 4, "gmm_max_components": 4, "reg_covar": 1e-4}


def two_clusters(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, (n // 2, d)) + 8
    b = rng.normal(0, 1, (n // 2, d)) - 8
    return np.concatenate([a, b]).astype(np.float32)


def correlated(n=2000, d=5, seed=0):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d))
    return (rng.normal(size=(n, d)) @ mix.T + 3).astype(np.float32), mix @ mix.T


@pytest.fixture
def prior_file(tmp_path):
    latents = two_clusters()
    np.save(tmp_path / "train.npy", latents)
    summary = fit_prior(tmp_path / "train.npy", tmp_path / "prior.pt", tmp_path / "prior.json", CFG, seed=0)
    return tmp_path / "prior.pt", summary, latents


def test_gmm_picks_k_by_bic_and_prior_loads_weights_only(prior_file):
    path, summary, _ = prior_file
    assert summary["gmm_k"] == 2
    assert min(summary["gmm_bic"], key=summary["gmm_bic"].get) == "2"
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "prior" and payload["latent_dim"] == 6


def test_full_covariance_gaussian_matches_the_data(tmp_path):
    latents, cov = correlated()
    np.save(tmp_path / "train.npy", latents)
    fit_prior(tmp_path / "train.npy", tmp_path / "p.pt", tmp_path / "p.json", CFG, seed=0)
    z = sample_latents(load_prior(tmp_path / "p.pt"), "gaussian", 4000, seed=1)
    assert np.allclose(z.mean(0), 3, atol=0.3)
    assert np.allclose(np.cov(z.T), cov, atol=0.15 * np.abs(cov).max())


def test_samplers_are_seeded_and_gmm_samples_both_modes(prior_file):
    path, _, _ = prior_file
    prior = load_prior(path)
    for sampler in SAMPLERS:
        a = sample_latents(prior, sampler, 50, seed=5)
        assert a.shape == (50, 6) and np.isfinite(a).all()
        assert np.array_equal(a, sample_latents(prior, sampler, 50, seed=5))
        assert not np.array_equal(a, sample_latents(prior, sampler, 50, seed=6))
    z = sample_latents(prior, "gmm", 400, seed=0)
    share = np.mean(z[:, 0] > 0)
    assert 0.3 < share < 0.7  # both clusters, not a blur between them
    assert np.mean(np.abs(z[:, 0]) < 4) < 0.05
    with pytest.raises(ValueError, match="unknown sampler"):
        sample_latents(prior, "uniform", 3, seed=0)


def test_slerp_endpoints_and_norm():
    a = torch.tensor([[1.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[0.0, 1.0], [4.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(slerp(a, b, torch.tensor([0.0, 0.0], dtype=torch.float64)), a)
    assert torch.allclose(slerp(a, b, torch.tensor([1.0, 1.0], dtype=torch.float64)), b)
    mid = slerp(a, b, torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert torch.allclose(mid[0].norm(), torch.tensor(1.0, dtype=torch.float64))  # on the arc, not the chord
    assert torch.allclose(mid[1], torch.tensor([3.0, 0.0], dtype=torch.float64))  # parallel: linear


def test_checks_flag_flat_images_and_memorisation():
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(100, 8)), rng.normal(size=(20, 8))
    flat = np.full((4, 16, 16, 3), 119, np.uint8)
    textured = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    copies = sample_checks(flat, train[:4], train, test, flat_std=0.02)
    assert copies["flat_fraction"] == 1.0
    assert copies["nn_ratio_samples_to_test"] == 0.0 and copies["closer_than_test_fraction"] == 1.0
    assert copies["value_min"] == copies["value_max"] == 119
    assert copies["nn_ratio_samples_to_train_loo"] == 0.0
    d = np.linalg.norm(train[:, None] - train[None], axis=2) + np.diag(np.full(len(train), np.inf))
    assert copies["nn_train_distance_train_loo_median"] == pytest.approx(np.median(d.min(axis=1)))
    novel = sample_checks(textured, rng.normal(size=(4, 8)), train, test, flat_std=0.02)
    assert novel["flat_fraction"] == 0.0
    assert novel["nn_ratio_samples_to_test"] > 0.5


def test_partial_tiles_latents_never_enter_the_prior_nor_slerp_perturb_anchors(tmp_path):
    # the second cluster stands for partial tiles (their no-data decodes black): with min_valid they are left out
    latents = two_clusters(n=40)
    masks = np.ones((40, 8, 8), bool)
    masks[20:, :, :4] = False  # valid fraction 0.5
    np.save(tmp_path / "train.npy", latents)
    np.save(tmp_path / "train_masks.npy", masks)
    summary = fit_prior(tmp_path / "train.npy", tmp_path / "p.pt", tmp_path / "p.json", {**CFG, "min_valid": 0.99},
                        seed=0, train_masks_path=tmp_path / "train_masks.npy")
    assert summary["n_train"] == 20 and summary["n_train_left_out_partial"] == 20
    prior = load_prior(tmp_path / "p.pt")
    for sampler in SAMPLERS:
        z = sample_latents(prior, sampler, 64, seed=0)
        assert (z.mean(1) > 0).all(), sampler  # every sample near the complete tiles' cluster (+8), none at -8
    np.save(tmp_path / "train_masks.npy", np.zeros_like(masks))  # no complete tile: a clear error naming the key
    with pytest.raises(ValueError, match="prior.min_valid"):
        fit_prior(tmp_path / "train.npy", tmp_path / "q.pt", tmp_path / "q.json", {**CFG, "min_valid": 0.99},
                  seed=0, train_masks_path=tmp_path / "train_masks.npy")
