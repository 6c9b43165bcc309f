"""Parameters of rockzoom's own functions and registered classes, read from their source without importing it.

The config checks run at every Snakemake start (dry runs included); importing the modules whose signatures they
check would import torch, scipy and matplotlib, half of a dry run's time. The source is parsed (``ast``) instead;
``tests/unit/util/test_signatures.py`` pins what it reads against ``inspect`` on the imported objects.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # src/rockzoom


@dataclass(frozen=True)
class Params:
    """A def's parameters: positional-or-keyword ones (name -> has a default; ``self`` left out), keyword-only
    names, and whether it takes ``**kwargs``."""
    positional: dict[str, bool]
    keyword_only: frozenset[str]
    var_keyword: bool


@lru_cache(maxsize=None)
def _module_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _params(fn: ast.FunctionDef) -> Params:
    a = fn.args
    first_default = len(a.posonlyargs) + len(a.args) - len(a.defaults)  # defaults fill the last positional ones
    return Params(positional={p.arg: len(a.posonlyargs) + i >= first_default
                              for i, p in enumerate(a.args) if p.arg != "self"},
                  keyword_only=frozenset(p.arg for p in a.kwonlyargs), var_keyword=a.kwarg is not None)


def function_params(module: str, name: str) -> Params:
    """The top-level function ``name`` of ``rockzoom.<module>`` (dotted, e.g. ``"metrics.realism"``)."""
    tree = _module_tree(PACKAGE.joinpath(*module.split(".")).with_suffix(".py"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return _params(node)
    raise LookupError(f"no function {name!r} in rockzoom.{module}")


def _registered_name(decorator: ast.expr, registry: str) -> str | None:
    """``name`` of a ``@<registry>.register("name")`` decorator, else None."""
    if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "register" and isinstance(decorator.func.value, ast.Name)
            and decorator.func.value.id == registry and decorator.args
            and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str)):
        return decorator.args[0].value
    return None


def registered_inits(package: str, registry: str) -> dict[str, Params]:
    """Architecture name -> its class's ``__init__`` parameters, for every class of ``rockzoom.<package>``'s modules
    decorated ``@<registry>.register("name")`` that defines its own ``__init__`` (others are left out: their
    signature is inherited, so only the imported class can tell)."""
    out = {}
    for path in sorted(PACKAGE.joinpath(*package.split(".")).glob("*.py")):
        for node in _module_tree(path).body:
            if not isinstance(node, ast.ClassDef):
                continue
            names = [n for n in (_registered_name(d, registry) for d in node.decorator_list) if n]
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
            if names and init is not None:
                out.update({n: _params(init) for n in names})
    return out


def check_keywords(family: str, name: str, accepted: dict[str, bool], kwargs, fixed=(), where: str = "") -> None:
    """Unknown or missing keywords of architecture ``name`` -> ValueError naming them (and ``where``).
    accepted: keyword -> has a default; ``fixed``: keywords the stage passes itself, never taken from config."""
    allowed = set(accepted) - set(fixed)
    prefix = f"{where}: " if where else ""
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"{prefix}{family} architecture {name!r} has no keyword {unknown[0]!r} "
                         f"(accepted: {sorted(allowed)})")
    missing = sorted(k for k, has_default in accepted.items() if not has_default and k not in kwargs
                     and k not in fixed)
    if missing:
        raise ValueError(f"{prefix}{family} architecture {name!r} needs keyword {missing[0]!r}")
