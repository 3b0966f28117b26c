"""The facility's approved catalogues (danh mục): drugs, supplies, services, staff, departments and beds, equipment.

``reader`` reads the portal's spreadsheets (XLSX, CSV; the headers of ``kinds.toml``), ``imports`` stores them
in the ledger database with their validity periods (:mod:`xml130.store.catalog`, which also indexes them for
the catalog rules, :mod:`xml130.rules.catalog_rules`), and ``cross`` runs the checks across hồ sơ of one day.
"""

from ..store.catalog import Catalog, Entry
from .reader import BadRow, UnknownLayout, kinds, read_file

__all__ = ["BadRow", "Catalog", "Entry", "UnknownLayout", "kinds", "read_file"]
