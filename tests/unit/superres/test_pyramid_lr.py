"""LR read from the tree's own coarser zoom equals the 4x average the pyramid was built with."""
import numpy as np
import pytest
from PIL import Image

from rockzoom.data.demo import write_pyramid
from rockzoom.data.tiles import build_index
from rockzoom.superres.pyramid_lr import TreeLayout, layout_from_index, pyramid_lr

X0, Y0 = 4 * 100, 4 * 200  # zoom-23 origin aligned to the zoom-21 grid


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (1024, 2048, 4), dtype=np.uint8)  # two zoom-21 tiles side by side
    rgba[..., 3] = 255
    root = tmp_path_factory.mktemp("tree")
    write_pyramid(rgba, root, 23, X0, Y0, levels=3, workers=1)
    return root, rgba


def reference_lr(rgba: np.ndarray) -> np.ndarray:
    image = Image.fromarray(rgba, mode="RGBA")
    for _ in range(2):
        image = image.convert("RGBa").reduce(2).convert("RGBA")
    return np.asarray(image)[..., :3]


def test_pyramid_lr_is_the_coarser_zoom_window(tree):
    root, rgba = tree
    layout = TreeLayout(root, "tms", ".png")
    samples = [{"z": 23, "x": X0 + i, "y": Y0 + j, "offset_x": 0, "offset_y": 0, "size": 256}
               for j in range(2) for i in range(3)]
    samples.append({"z": 23, "x": X0 + 3, "y": Y0 + 1, "offset_x": 0, "offset_y": 0, "size": 512})  # spans 2 LR tiles
    lr, valid = pyramid_lr(samples[:6], layout, 4)
    ref = reference_lr(rgba)
    for k, s in enumerate(samples[:6]):
        i, j = s["x"] - X0, s["y"] - Y0
        np.testing.assert_array_equal(lr[k], ref[j * 64:(j + 1) * 64, i * 64:(i + 1) * 64])
    assert valid.all()
    big, big_valid = pyramid_lr(samples[6:], layout, 4)
    np.testing.assert_array_equal(big[0], ref[64:192, 192:320])
    assert big_valid.all()


def test_layout_is_read_off_the_index_and_a_missing_zoom_is_named(tree, tmp_path):
    root, _ = tree
    build_index(root, 23, tmp_path / "index.csv", tmp_path / "rejected.csv")
    layout = layout_from_index(tmp_path / "index.csv")
    assert (layout.root, layout.scheme, layout.ext) == (root, "tms", ".png")
    far = [{"z": 23, "x": 8, "y": 8, "offset_x": 0, "offset_y": 0, "size": 256}]
    with pytest.raises(ValueError, match="no zoom-21 tile"):
        pyramid_lr(far, layout, 4)
    with pytest.raises(ValueError, match="power-of-two"):
        pyramid_lr(far, layout, 3)
