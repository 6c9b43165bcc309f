import pytest
import torch

from rockzoom.models.blocks import Upsampler, bicubic_upsample
from rockzoom.models.registry import SR_NETS, count_parameters


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("arch,kwargs", [("rlfn", {}), ("rlfn", {"attention": True}),
                                         ("edsr", {"n_resblocks": 2, "n_feats": 16})])
def test_nets_upscale_by_any_integer_scale(arch, kwargs, scale):
    torch.manual_seed(0)
    net = SR_NETS.build(arch, scale=scale, **kwargs)
    out = net(torch.rand(2, 3, 12, 10))
    assert out.shape == (2, 3, 12 * scale, 10 * scale)
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_default_sizes_match_the_published_and_measured_nets():
    assert count_parameters(SR_NETS.build("rlfn", scale=4)) == 134_992  # 6 blocks x 32 features
    assert 1.5e6 < count_parameters(SR_NETS.build("edsr", scale=4)) < 1.55e6  # EDSR-baseline x4: 1.52 M


def test_rlfn_net_with_zero_tail_is_bicubic():
    net = SR_NETS.build("rlfn", scale=3)
    torch.nn.init.zeros_(net.tail[0].weight)
    torch.nn.init.zeros_(net.tail[0].bias)
    x = torch.rand(1, 3, 9, 9)
    assert torch.allclose(net(x), bicubic_upsample(x, 3))


def test_upsampler_stages_and_bad_scale():
    assert len(Upsampler(8, 4)) == 4  # two x2 stages
    assert len(Upsampler(8, 3)) == 2
    with pytest.raises(ValueError, match="scale"):
        SR_NETS.build("rlfn", scale=1)
    with pytest.raises(ValueError, match="unknown SR net architecture"):
        SR_NETS.build("srgan", scale=4)
