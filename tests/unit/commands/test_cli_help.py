"""`rockzoom --help` stays fast: building the parser imports no heavy library, and the choices that the command
modules keep as literals (so they need not import their library) match the library's own constants."""
import subprocess
import sys

HEAVY = ("torch", "sklearn", "scipy", "pandas", "matplotlib", "rasterio")


def test_building_the_parser_imports_no_heavy_library():
    code = ("import sys; from rockzoom.cli import build_parser; build_parser(); "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_verb_is_still_discovered():
    from rockzoom.cli import build_parser

    verbs = build_parser()._subparsers._group_actions[0].choices
    assert {"upscale", "index", "build-dataset", "train-sr", "train-ae", "sample", "upscale-pyramid"} <= set(verbs)


def test_literal_choices_match_the_library():
    from rockzoom.autoencoder.sampling import SAMPLERS
    from rockzoom.commands import build_dataset, index, sample, upscale
    from rockzoom.data.image_files import default_max_pixels
    from rockzoom.data.split import STRATIFY
    from rockzoom.data.tiles import SCHEMES
    from rockzoom.superres.upscale import CLASSICAL_METHODS

    assert tuple(build_dataset.STRATIFY) == tuple(STRATIFY)
    assert tuple(index.SCHEMES) == tuple(SCHEMES)
    assert tuple(sample.SAMPLERS) == tuple(SAMPLERS)
    assert tuple(upscale.METHODS) == tuple(sorted(CLASSICAL_METHODS))
    assert upscale.MAX_PIXELS == default_max_pixels()
