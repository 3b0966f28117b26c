"""The demo HIS as a live hospital writes it: :class:`DemoHis` holds the rows built so far and commits them on
demand; :meth:`DemoHis.close_now` records a visit closing now, in one transaction, as ``bench/bench_stream.py``'s
writer does. The rows are :mod:`.his`'s (``create_demo`` writes the same episodes in one go)."""

from __future__ import annotations

import datetime as dt

from .his import _build_episode, new_his


class DemoHis:
    """The demo HIS at ``url``, (re)created with its departments, staff and catalogue; episodes are added with
    :meth:`add` (from ``START``, ``minutes_between`` apart) or :meth:`close_now`. Same seed → same rows."""

    def __init__(self, url: str, seed: int = 130):
        (self.engine, self.builder, self.dept, self.staff_ids, self.items, self.prices,
         self.catalog) = new_his(url, seed)

    def add(self, i: int, minutes_between: int = 7) -> None:
        """Episode number ``i`` (its case from ``his._case_of``), kept until :meth:`flush`."""
        _build_episode(self.builder, i, self.staff_ids, self.dept, self.items, self.prices, self.catalog,
                       minutes_between)

    def flush(self) -> None:
        self.builder.flush(self.engine)

    def close_now(self, i: int, closed_at: dt.datetime | None = None) -> tuple[str, str]:
        """Episode ``i`` moved in time so that it closes at ``closed_at`` (default now), committed in one
        transaction; returns (MA_LK, case)."""
        self.add(i)
        rows = self.builder.rows
        shift = (closed_at or dt.datetime.now()) - rows["encounter"][-1]["closed_at"]
        for table in rows.values():
            for row in table:
                for k, v in row.items():
                    if isinstance(v, dt.datetime):
                        row[k] = v + shift
                    elif isinstance(v, dt.date):
                        row[k] = v + dt.timedelta(days=shift.days)
        case = rows["demo_case"][-1]
        self.flush()
        return case["ma_lk"], case["case_name"]
