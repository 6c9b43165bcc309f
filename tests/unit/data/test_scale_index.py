"""Survey scale: the chunked demo tree and the parallel index give the same files whatever the number of workers."""
import hashlib

from PIL import Image

from rockzoom.data.demo import make_demo_pyramid
from rockzoom.data.tiles import build_index, index_tiles


def _tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + p.read_bytes())
    return h.hexdigest()


def test_chunked_demo_is_the_same_for_any_number_of_workers(tmp_path):
    n1 = make_demo_pyramid(tmp_path / "a", tiles_x=16, tiles_y=8, seed=5, chunk_tiles=8, workers=1)
    n2 = make_demo_pyramid(tmp_path / "b", tiles_x=16, tiles_y=8, seed=5, chunk_tiles=8, workers=2)
    assert n1 == n2 > 16 * 8
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")
    assert len(list((tmp_path / "a" / "20").rglob("*.png"))) == 2  # the levels above: one z20 tile per chunk
    n3 = make_demo_pyramid(tmp_path / "c", tiles_x=16, tiles_y=8, seed=6, chunk_tiles=8, workers=1)
    assert n3 > 0 and _tree_digest(tmp_path / "c") != _tree_digest(tmp_path / "a")


def test_index_is_byte_identical_for_one_and_two_workers(tmp_path):
    tree = tmp_path / "tree"
    make_demo_pyramid(tree, tiles_x=8, tiles_y=8, seed=2)
    col = sorted((tree / "23").iterdir())[3]
    first = sorted(col.iterdir())[0]
    (col / "notes.txt").write_text("x")  # not named as a tile
    (col / f"{int(first.stem) + 1000}.png").write_bytes(b"")  # empty
    Image.open(first).convert("RGB").save(first.with_suffix(".jpg"))  # a duplicate of an existing (x, y)
    out = {}
    for workers in (1, 2):
        d = tmp_path / f"w{workers}"
        count = build_index(tree, 23, d / "index.csv", d / "rejected.csv", workers=workers)
        out[workers] = ((d / "index.csv").read_bytes(), (d / "rejected.csv").read_bytes())
        assert count == 64
    assert out[1] == out[2]
    text = out[1][1].decode()
    assert "duplicate tile" in text and "empty file" in text and "not named as a tile" in text
    recs, rej = index_tiles(tree, 23, workers=2)
    assert [(r.x, r.y) for r in recs] == sorted((r.x, r.y) for r in recs) and len(rej) == 3
