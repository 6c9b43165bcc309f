"""What util.signatures reads from the source equals what inspect reads from the imported objects, and planning
the workflow imports none of torch, matplotlib or scipy (the point of reading the source)."""
import inspect
import subprocess
import sys

import pytest

from rockzoom.util.signatures import check_keywords, function_params, registered_inits


@pytest.mark.parametrize("registry", ["SR_NETS", "AE_NETS", "REFINER_NETS"])
def test_registered_inits_equal_the_imported_classes(registry):
    from rockzoom.models import registry as reg

    real = getattr(reg, registry)
    scanned = registered_inits("models", registry)
    built_in = [n for n in real.names() if real.get(n).__module__.startswith("rockzoom.models.")]
    assert set(scanned) == set(built_in)  # every built-in class defines its own __init__ (tests may add others)
    for name in built_in:
        expected = {k: p.default is not p.empty for k, p in real.keywords(name).items()}
        assert scanned[name].positional == expected, name


@pytest.mark.parametrize("module, name", [("texture.patch_synthesis", "synthesize"), ("metrics.realism", "kid"),
                                          ("metrics.realism", "memorisation"),
                                          ("metrics.realism", "patch_copy_rate")])
def test_function_params_equal_inspect(module, name):
    import importlib

    params = inspect.signature(getattr(importlib.import_module(f"rockzoom.{module}"), name)).parameters.values()
    got = function_params(module, name)
    assert got.keyword_only == {p.name for p in params if p.kind is p.KEYWORD_ONLY}
    assert got.var_keyword == any(p.kind is p.VAR_KEYWORD for p in params)
    assert got.positional == {p.name: p.default is not p.empty for p in params if p.kind is p.POSITIONAL_OR_KEYWORD}


def test_unknown_function_and_keywords_are_errors():
    with pytest.raises(LookupError, match="no function 'nosuch' in rockzoom.metrics.realism"):
        function_params("metrics.realism", "nosuch")
    accepted = {"scale": False, "width": True, "depth": False}
    check_keywords("SR net", "toy", accepted, {"depth": 2}, fixed=("scale",))
    with pytest.raises(ValueError, match=r"sr.nets.x: SR net architecture 'toy' has no keyword 'scale'"):
        check_keywords("SR net", "toy", accepted, {"depth": 2, "scale": 4}, fixed=("scale",), where="sr.nets.x")
    with pytest.raises(ValueError, match="needs keyword 'depth'"):
        check_keywords("SR net", "toy", accepted, {}, fixed=("scale",))


BLOCK_AND_PLAN = """
import sys, runpy
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'matplotlib', 'scipy'):
            raise ImportError(name + ' imported while planning')
sys.meta_path.insert(0, Block())
sys.argv = ['snakemake', '-n', 'all', '--snakefile', sys.argv[1], '--directory', sys.argv[2], '--cores', '2',
            '--configfile', *sys.argv[3:]]
runpy.run_module('snakemake', run_name='__main__')
"""


@pytest.mark.parametrize("overlay", ["config/test.yaml", "config/gpu.yaml"])
def test_planning_the_workflow_imports_no_torch(tmp_path, overlay):
    from workflow_helpers import REPO

    configs = [str(REPO / "config/config.yaml"), str(REPO / overlay)]
    proc = subprocess.run([sys.executable, "-c", BLOCK_AND_PLAN, str(REPO / "Snakefile"), str(tmp_path), *configs],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "This was a dry-run" in proc.stdout + proc.stderr
