"""One root exception: every error xml130 raises on purpose is an Xml130Error (the command line's one error
policy catches that, not bare ValueError), keeping the built-in base its callers may catch."""

from __future__ import annotations

import importlib
import pkgutil

import xml130
from xml130.errors import Xml130Error


def _errors() -> dict[str, type]:
    found = {}
    for info in pkgutil.walk_packages(xml130.__path__, "xml130."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == info.name:
                found[f"{info.name}.{obj.__name__}"] = obj
    return found


def test_every_error_of_the_package_derives_from_xml130error():
    errors = _errors()
    assert len(errors) >= 15
    assert [name for name, cls in errors.items() if not issubclass(cls, Xml130Error)] == []


def test_the_errors_keep_the_builtin_base_their_callers_catch():
    from xml130.mapping import MappingError
    from xml130.portal.client import PortalError
    from xml130.validate import FileUnreadable

    assert issubclass(MappingError, ValueError) and issubclass(PortalError, RuntimeError)
    unreadable = FileUnreadable(2, "No such file or directory", "x.xml")
    assert isinstance(unreadable, OSError) and unreadable.errno == 2 and isinstance(unreadable, Xml130Error)
