import pytest
import torch
import torch.nn.functional as F

from rockzoom.models.discriminator import PatchDiscriminator
from rockzoom.superres.texture_losses import (
    RandomGramNet,
    artifact_map,
    discriminator_receptive_field,
    gram_loss,
    lr_consistency_loss,
    patch_swd,
)


def _noise(seed, sigma, size=48, mean=0.5):
    gen = torch.Generator().manual_seed(seed)
    return (mean + sigma * torch.randn(2, 3, size, size, generator=gen)).clamp(0, 1)


def test_lr_consistency_is_zero_for_any_detail_that_averages_to_the_input():
    lr = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    detail = torch.randn(2, 3, 24, 24, generator=torch.Generator().manual_seed(1)) * 0.1
    detail = detail - F.avg_pool2d(detail, 4).repeat_interleave(4, -2).repeat_interleave(4, -1)
    sr = lr.repeat_interleave(4, -2).repeat_interleave(4, -1) + detail
    assert lr_consistency_loss(sr, lr, 4).item() < 1e-6
    assert lr_consistency_loss(sr + 0.1, lr, 4).item() == pytest.approx(0.1, abs=1e-5)
    mask = torch.zeros(2, 1, 6, 6)
    mask[..., :3] = 1  # only the left half is valid: an error on the right half costs nothing
    shifted = sr.clone()
    shifted[..., 12:] += 0.3
    assert lr_consistency_loss(shifted, lr, 4, mask).item() < 1e-6


def test_artifact_map_is_zero_where_the_live_model_beats_its_ema():
    hr = _noise(0, 0.2)
    live = hr.clone()
    live[..., :24] += 0.3 * torch.randn(2, 3, 48, 24, generator=torch.Generator().manual_seed(2))  # left: worse
    ema = hr + 0.05 * torch.randn(2, 3, 48, 48, generator=torch.Generator().manual_seed(3))
    m = artifact_map(hr, live, ema)
    assert m.shape == (2, 1, 48, 48) and (m >= 0).all()
    assert m[..., 28:].abs().max() == 0  # right: the live model equals hr, better than the EMA
    assert m[..., 4:20].mean() > 0


def test_patch_swd_measures_the_patch_distribution_not_the_pixel_positions():
    a, b = _noise(0, 0.15), _noise(1, 0.15)  # two draws of one texture
    smooth = F.avg_pool2d(F.pad(_noise(2, 0.15), (1, 1, 1, 1), mode="reflect"), 3, stride=1)  # the blurred texture
    gen = lambda: torch.Generator().manual_seed(0)
    assert patch_swd(a, a, generator=gen()).item() == 0
    same = patch_swd(a, b, generator=gen()).item()
    blurred = patch_swd(smooth, b, generator=gen()).item()
    assert blurred > 3 * same


def test_gram_loss_tells_a_blurred_texture_from_another_draw_of_it():
    net = RandomGramNet(kernels=(3, 5), filters=8)
    a, b = _noise(0, 0.15), _noise(1, 0.15)
    smooth = F.avg_pool2d(F.pad(_noise(2, 0.15), (1, 1, 1, 1), mode="reflect"), 3, stride=1)
    assert gram_loss(net, a, a).item() == 0
    assert gram_loss(net, smooth, b).item() > 3 * gram_loss(net, a, b).item()


@pytest.mark.parametrize("n_down", [2, 3])
def test_discriminator_receptive_field_matches_the_net(n_down):
    torch.manual_seed(0)
    d = PatchDiscriminator(4, n_down=n_down)
    x = torch.rand(1, 3, 96, 96, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    cols = (x.grad.abs().sum((0, 1, 2)) > 0).nonzero()
    assert cols.max().item() - cols.min().item() + 1 == discriminator_receptive_field(n_down)
