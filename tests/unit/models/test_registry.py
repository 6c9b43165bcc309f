"""One registry per net family: a net registered anywhere is usable from config, and keywords are checked."""
import pytest
import torch
from texture_data import write_texture_dataset
from torch import nn

import rockzoom.config as rc
from rockzoom.config import ConfigError
from rockzoom.models.registry import SR_NETS, Registry
from rockzoom.superres.train import train_sr
from rockzoom.superres.upscale import NetUpscaler


class ToySR(nn.Module):
    """Nearest-neighbour upsample plus one learned conv: the smallest net with parameters."""

    def __init__(self, scale: int = 4, width: int = 4):
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.Conv2d(width, 3, 3, padding=1))

    def forward(self, x):
        up = nn.functional.interpolate(x, scale_factor=self.scale, mode="nearest")
        return up + self.body(up)


def test_a_registered_toy_net_trains_from_config_and_loads_as_an_upscaler(tmp_path):
    SR_NETS.register("toy_sr_test")(ToySR)
    cfg = rc.load_config(overrides={"sr": {"nets": {"toy": {"arch": "toy_sr_test", "width": 3}},
                                           "train": {"lr_patch": 8, "val_images": 2,
                                                     "engine": {"steps": 2, "batch_size": 2, "val_every": 2,
                                                                "save_every": 2, "log_every": 1}}}})
    data = write_texture_dataset(tmp_path / "data", {"train": 3, "val": 2, "test": 1}, 64, nodata_rows=0)
    settings = {**rc.stage_settings(cfg, "sr.train"), "lr_source": "bicubic"}  # a synthetic dataset: no tile tree
    train_sr(data, model_out=tmp_path / "sr/model.pt", metrics_csv=tmp_path / "sr/metrics.csv",
             curve_png=tmp_path / "sr/curve.png", scale=2, net=rc.sr_net(cfg, "toy"), train_cfg=settings, seed=0,
             progress=False)
    up = NetUpscaler.from_checkpoint(tmp_path / "sr/model.pt", device="cpu")
    assert isinstance(up.model, ToySR) and up.scale == 2 and up.model.body[0].out_channels == 3
    with pytest.raises(ConfigError, match="sr.nets.toy.*no keyword 'depth'"):
        rc.load_config(overrides={"sr": {"nets": {"toy": {"arch": "toy_sr_test", "depth": 3}}}})


def test_unknown_arch_and_keywords_are_named():
    reg = Registry("demo")
    reg.register("a")(ToySR)
    with pytest.raises(ValueError, match="unknown demo architecture 'b'; expected one of \\['a'\\]"):
        reg.build("b")
    with pytest.raises(ValueError, match="no keyword 'colour'"):
        reg.build("a", colour=1)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(nn.Identity)
    assert isinstance(reg.build("a", width=2), ToySR)
    assert torch.is_tensor(reg.build("a")(torch.zeros(1, 3, 4, 4)))
