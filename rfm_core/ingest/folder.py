"""The server's data folder: the files too large to upload, listed, and opened only by name.

Only plain CSV and Parquet files directly inside the folder are listed (no sub-folders, hidden
files or links), and :func:`folder_file` opens nothing it did not list, so no text a user types
(``..``, an absolute path, an encoded name) can reach a file outside the folder. The engines of
:mod:`rfm_core.customers.engine` scan these files out of core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rfm_core.errors import LoadError

__all__ = ["FOLDER_SUFFIXES", "FolderFile", "folder_file", "list_folder"]

FOLDER_SUFFIXES = (".csv", ".parquet")  # what an engine scans out of core


@dataclass(frozen=True)
class FolderFile:
    """A file of the server's data folder: name, size and modification time (its identity).

    Attributes
    ----------
    name : str
        The file's name inside the folder.
    size : int
        Its size in bytes.
    modified : float
        Its modification time (seconds since the epoch).
    """

    name: str
    size: int
    modified: float

    @property
    def stamp(self) -> str:
        """Changes whenever the file does: the cache key of everything computed from it."""
        return f"{self.name}:{self.size}:{self.modified:.6f}"


def list_folder(folder: str | Path) -> list[FolderFile]:
    """List the CSV and Parquet files directly inside ``folder`` (none if it does not exist).

    Sub-folders, hidden files and symbolic links are left out: only plain files that live in the
    folder itself can be opened (see :func:`folder_file`).

    Parameters
    ----------
    folder : str or pathlib.Path
        The data folder.

    Returns
    -------
    list of FolderFile
        Sorted by name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        if path.suffix.lower() in FOLDER_SUFFIXES:
            stat = path.stat()
            files.append(FolderFile(path.name, stat.st_size, stat.st_mtime))
    return files


def folder_file(folder: str | Path, name: str) -> Path:
    """Return the path of the listed file ``name``; anything else is refused.

    A name is accepted only if :func:`list_folder` lists it, so no user-supplied text (``..``,
    absolute paths, links) can reach a file outside the folder.

    Parameters
    ----------
    folder : str or pathlib.Path
        The data folder.
    name : str
        A name as :func:`list_folder` gives it.

    Returns
    -------
    pathlib.Path
        ``folder / name``.

    Raises
    ------
    LoadError
        ``name`` is not a file that :func:`list_folder` lists.
    """
    for listed in list_folder(folder):
        if listed.name == name:
            return Path(folder) / listed.name
    raise LoadError(f"{name!r} is not a file of the data folder")
