"""What a hospital does not run: the demo and the test data.

Synthetic people and hồ sơ (:mod:`.synthetic`, no patient data), the named scenarios behind ``fixtures/``
(:mod:`.scenarios`), the demo HIS in two shapes (:mod:`.his` on :mod:`.his_schema`; :mod:`.his_vn` with
Vietnamese names, text keys and dates), its catalogues (:mod:`.catalog`, :mod:`.catalog_synthetic`), the local
portal and remote-signer simulators (:mod:`.portal_sim`, :mod:`.signer_sim`) and the demo job (:mod:`.job`).

The mappings of the two demo HIS (``demo_his.toml``, ``vn_his.toml``, :func:`mapping_path`) live here too: they
read the demo's databases only. A hospital's jobs always name their own mapping (``--mapping`` or
``XML130_MAPPING``); nothing outside this package and the demo commands falls back to a demo mapping.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..mapping import Mapping

def mapping_path(name: str = "demo_his.toml") -> Path:
    """The bundled mapping of a demo HIS: ``demo_his.toml`` (:mod:`.his`) or ``vn_his.toml`` (:mod:`.his_vn`)."""
    return Path(str(resources.files(__name__) / name))


def demo_mapping(name: str = "demo_his.toml") -> Mapping:
    """The demo HIS mapping, read and checked."""
    from ..mapping import load_mapping

    return load_mapping(mapping_path(name))
