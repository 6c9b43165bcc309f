"""A small SR dataset (48 px textures with a no-data strip) shared by the SR data and training tests."""
import pytest
from texture_data import write_texture_dataset


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_texture_dataset(tmp_path_factory.mktemp("sr_data"), {"train": 6, "val": 2, "test": 3}, size=48, nodata_rows=12)
