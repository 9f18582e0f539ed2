"""Every error a user can be shown is an RfmError subclass defined in rfm_core.errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import rfm_core
from rfm_core import errors
from rfm_core.errors import RfmError

PACKAGE = Path(rfm_core.__file__).resolve().parent


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


def test_every_rfm_error_subclass_lives_in_errors():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem != "__main__":
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            importlib.import_module(".".join(p for p in parts if p != "__init__"))
    subclasses = {cls for cls in all_subclasses(RfmError) if cls.__module__.startswith("rfm_core")}
    assert len(subclasses) >= 13
    assert {cls.__qualname__ for cls in subclasses if cls.__module__ != "rfm_core.errors"} == set()
    assert {cls.__name__ for cls in subclasses} == set(errors.__all__) - {"RfmError"}


def test_the_check_would_see_an_error_defined_elsewhere():
    class StrayError(RfmError):
        pass

    assert StrayError in all_subclasses(RfmError)
    assert StrayError.__module__ != "rfm_core.errors"
    assert issubclass(RfmError, ValueError)
