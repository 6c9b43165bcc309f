"""Load, layer, validate and default-fill rockzoom config files (one schema, one loader for Snakemake and the CLI)."""
from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "schema.yaml"  # the ONE schema; the Snakefile validates against this file too
DEFAULTS_PATH = HERE / "defaults.yaml"  # the base of every run (config/config.yaml links here)


class ConfigError(ValueError):
    """A bad config: the message is one line that names the config key."""


def merge(base: dict, *overlays: dict) -> dict:
    """Recursive dict merge, later wins (as Snakemake's `--configfile a b`); lists and scalars are replaced."""
    out = copy.deepcopy(base)
    for overlay in overlays:
        for key, value in (overlay or {}).items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


@lru_cache(maxsize=1)
def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _default_validator():
    """Draft 2020-12 validator that fills `default`s while it validates, as snakemake.utils.validate does (defaults
    are deep-copied here, so a filled default is never shared between two places of the config)."""
    from jsonschema import Draft202012Validator, validators

    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema_):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(prop, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema_)

    return validators.extend(Draft202012Validator, {"properties": set_defaults})


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def validate(cfg: dict) -> dict:
    """Validate ``cfg`` in place against the schema, fill its defaults and run the checks a schema cannot express.
    Raises ConfigError naming the first bad key."""
    from jsonschema.exceptions import best_match

    validator = _default_validator()(schema())
    error = best_match(validator.iter_errors(cfg))
    if error is not None:
        raise ConfigError(f"config key {_key(error.absolute_path)}: {error.message}")
    from rockzoom.config.resolve import check  # the cross-key checks

    check(cfg)
    return cfg


def load_config(*files: str | Path, base: bool = True, overrides: dict | None = None) -> dict:
    """The resolved config of ``files`` layered over the packaged defaults (``base``), as Snakemake layers
    ``--configfile`` files over config/config.yaml, then validated with defaults filled."""
    layers = [read_yaml(DEFAULTS_PATH)] if base else []
    layers += [read_yaml(f) for f in files]
    if overrides:
        layers.append(overrides)
    return validate(merge({}, *layers))


def add_config_argument(parser, what: str = "") -> None:
    """``--config FILE [FILE ...]`` for a CLI verb: files layered over the packaged defaults (= config/config.yaml),
    later wins, exactly as ``snakemake --configfile FILE ...``."""
    parser.add_argument("--config", nargs="+", default=[], metavar="FILE",
                        help="rockzoom config files layered over the defaults (config/config.yaml), later wins"
                             + (f"; uses {what}" if what else ""))


def load_cli_config(args) -> dict:
    """The resolved config of a verb's ``--config`` files (ConfigError names a bad key; the CLI exits 2)."""
    return load_config(*(args.config or []))
