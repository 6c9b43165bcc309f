"""One registry of network architectures per family (SR, autoencoder, refiner), BasicSR-style.

Register a class with ``@SR_NETS.register("name")`` in any module of ``rockzoom.models`` (every module of the package
is imported with it), and ``arch: name`` works in config: keywords are checked against the class's signature.
"""
from __future__ import annotations

import inspect

from torch import nn

from rockzoom.config.resolve import SR_NET_FAMILY, SR_NET_FIXED
from rockzoom.util.signatures import check_keywords


class Registry:
    def __init__(self, family: str, fixed: tuple[str, ...] = ()):
        self.family = family
        self.fixed = fixed  # keywords the stage passes itself (e.g. an SR net's scale), never taken from config
        self._classes: dict[str, type[nn.Module]] = {}

    def register(self, name: str):
        def add(cls: type[nn.Module]) -> type[nn.Module]:
            if name in self._classes and self._classes[name] is not cls:
                raise ValueError(f"{self.family} architecture {name!r} is registered twice")
            self._classes[name] = cls
            return cls
        return add

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> type[nn.Module]:
        if name not in self._classes:
            raise ValueError(f"unknown {self.family} architecture {name!r}; expected one of {self.names()}")
        return self._classes[name]

    def keywords(self, name: str) -> dict[str, inspect.Parameter]:
        params = inspect.signature(self.get(name).__init__).parameters
        return {k: p for k, p in params.items() if k != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}

    def check_kwargs(self, name: str, kwargs: dict, where: str = "") -> None:
        """Unknown or missing keywords -> ValueError naming them (and ``where``, e.g. the config key)."""
        accepted = {k: p.default is not p.empty for k, p in self.keywords(name).items()}
        check_keywords(self.family, name, accepted, kwargs, self.fixed, where)

    def build(self, name: str, **kwargs) -> nn.Module:
        self.check_kwargs(name, {k: v for k, v in kwargs.items() if k not in self.fixed})
        return self.get(name)(**kwargs)

    def from_config(self, cfg: dict, **fixed) -> nn.Module:
        """A net from its config entry ``{arch: name, **keywords}`` plus the keywords the stage fixes (e.g. scale)."""
        kwargs = dict(cfg)
        return self.build(kwargs.pop("arch"), **kwargs, **fixed)


SR_NETS = Registry(SR_NET_FAMILY, fixed=SR_NET_FIXED)
AE_NETS = Registry("autoencoder")
REFINER_NETS = Registry("refiner net")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
