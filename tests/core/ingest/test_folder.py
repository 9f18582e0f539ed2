"""The server-side data folder: what is listed, and that nothing else can be opened."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from rfm_core.errors import LoadError
from rfm_core.ingest.folder import folder_file, list_folder


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


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "../data/a.csv",  # back in through the parent: still a typed path
        "./a.csv",
        "sub/../a.csv",
        "a.csv/",
        "a.csv\0",  # NUL: would cut the name short in C
        "a.csv\0.parquet",
        "..%2Fsecret.csv",  # URL-encoded traversal, single and double
        "%2e%2e%2fsecret.csv",
        "..%252Fsecret.csv",
        "..\\secret.csv",  # Windows separators
        "A.CSV",  # another case of a listed name
        "a.csv ",
        " a.csv",
        "",
        ".",
        "..",
        "~/secret.csv",
        "file:///etc/passwd",
        "sub",
    ],
)
def test_typed_and_encoded_paths_are_refused(folder, name):
    with pytest.raises(LoadError, match="not a file of the data folder"):
        folder_file(folder, name)


def test_absolute_paths_are_refused_even_to_a_listed_file(folder):
    for name in (str(folder / "a.csv"), str((folder / "a.csv").resolve()), "/etc/hostname"):
        with pytest.raises(LoadError, match="not a file of the data folder"):
            folder_file(folder, name)


def test_a_link_to_a_folder_outside_is_not_followed(folder, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.csv").write_text("customer,date,amount\n")
    os.symlink(outside, folder / "linked_dir")
    os.symlink(outside / "leak.csv", folder / "leak.parquet")  # a link with a listed suffix
    assert [f.name for f in list_folder(folder)] == ["a.csv", "b.parquet"]
    for name in ("linked_dir/leak.csv", "leak.parquet", "link.csv"):
        with pytest.raises(LoadError, match="not a file of the data folder"):
            folder_file(folder, name)


def test_a_file_replaced_by_a_link_is_refused(folder, tmp_path):
    listed = list_folder(folder)[0].name
    (folder / listed).unlink()
    os.symlink(tmp_path / "secret.csv", folder / listed)
    with pytest.raises(LoadError, match="not a file of the data folder"):
        folder_file(folder, listed)


def test_the_message_shows_the_refused_name_quoted(folder):
    with pytest.raises(LoadError) as raised:
        folder_file(folder, "a.csv\0../../x")
    assert repr("a.csv\0../../x") in str(raised.value)  # the NUL shown escaped, not raw
    assert "\0" not in str(raised.value)


def test_the_app_opens_data_folder_files_only_through_folder_file():
    """Every use of the data folder in ui/ and pages/ goes through list_folder or folder_file."""
    repo = Path(__file__).resolve().parents[3]
    uses = []
    for path in sorted([*(repo / "ui").glob("*.py"), *(repo / "pages").glob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and any(
                isinstance(a, ast.Call) and getattr(a.func, "id", "") == "data_folder"
                for a in node.args
            ):
                uses.append((path.name, getattr(node.func, "id", "")))
    assert uses and {function for _, function in uses} <= {"list_folder", "folder_file"}
