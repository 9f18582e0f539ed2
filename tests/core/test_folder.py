"""The server-side data folder: what is listed, and that nothing else can be opened."""

from __future__ import annotations

import os

import pytest

from rfm_core.errors import LoadError
from rfm_core.io import folder_file, list_folder


@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "b.parquet").write_bytes(b"PAR1")
    (data / "a.csv").write_text("customer,date,amount\n")
    (data / "notes.txt").write_text("not a log")
    (data / ".hidden.csv").write_text("x")
    (data / "sub").mkdir()
    (data / "sub" / "inner.csv").write_text("x")
    secret = tmp_path / "secret.csv"
    secret.write_text("customer,date,amount\n")
    os.symlink(secret, data / "link.csv")
    return data


def test_lists_plain_csv_and_parquet_files_only(folder):
    listed = list_folder(folder)
    assert [f.name for f in listed] == ["a.csv", "b.parquet"]
    assert listed[1].size == 4
    assert listed[0].stamp.startswith("a.csv:")


def test_missing_folder_lists_nothing(tmp_path):
    assert list_folder(tmp_path / "nowhere") == []


@pytest.mark.parametrize(
    "name",
    ["../secret.csv", "link.csv", "sub/inner.csv", "/etc/passwd", "notes.txt", ".hidden.csv"],
)
def test_only_listed_files_can_be_opened(folder, name):
    with pytest.raises(LoadError, match="not a file of the data folder"):
        folder_file(folder, name)


def test_listed_file_resolves_inside_the_folder(folder):
    assert folder_file(folder, "a.csv") == folder / "a.csv"
