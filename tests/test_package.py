"""The package's public API: what ``import xml130`` offers."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from importlib.metadata import version

import xml130


def test_version_comes_from_the_package_metadata():
    assert xml130.__version__ == version("xml130") and xml130.__version__.count(".") >= 2


def test_every_public_name_is_the_object_of_its_home_module():
    assert xml130.__all__[0] == "__version__" and len(xml130.__all__) == len(set(xml130.__all__))
    for name in xml130.__all__[1:]:
        home = importlib.import_module(f"xml130.{xml130._HOME[name]}")
        assert getattr(xml130, name) is getattr(home, name), name
    assert set(xml130.__all__) <= set(dir(xml130))
    hoso = xml130.build_hoso(importlib.import_module("xml130.demo.scenarios").outpatient_drugs_labs())
    assert xml130.validate_bytes(xml130.render_hoso(hoso, ngaylap="20261120")) == []


def test_importing_the_package_loads_no_model_nor_validator():
    code = "import sys, xml130; print(sorted(m for m in sys.modules if m.startswith('xml130')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['xml130']"


def test_decode_module_no_longer_shadows_the_stdlib_inspect():
    import inspect

    assert inspect.__file__ != importlib.import_module("xml130.decode").__file__
    assert importlib.util.find_spec("xml130.inspect") is None
