"""The weekly (and monthly) VNeID health-book adoption report by department: HIS → counts → XLSX, HTML, CSV.

:mod:`.period` names the weeks and months, :mod:`.report` reads the facts through the mapping's ``[adoption]``
queries and computes the counts, rates, changes and ranks, :mod:`.outputs` writes the files.
"""

from .counts import AdoptionReport, build_report
from .period import Period

__all__ = ["AdoptionReport", "Period", "build_report"]
