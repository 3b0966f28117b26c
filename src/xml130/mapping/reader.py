"""Reading a source row as the mapping says: column lookups, then every typed column converted with
:func:`xml130.mapping.columns.coerce`; a value that cannot be read becomes a finding naming the table, the field
of the standard, the source column and the MA_LK (through the rule context), and is left empty."""

from __future__ import annotations

from typing import Any

from ..spec import SpecVersion
from . import Mapping, TableMapping
from .columns import KIND_TYPES, ColumnType, ValueProblem, coerce, rule_inputs
from .derive import RuleContext


class ColumnReader:
    def __init__(self, mapping: Mapping, version: SpecVersion):
        self.mapping, self.version = mapping, version
        self._types: dict[tuple[str, str | None], dict[str, ColumnType]] = {}

    def column_types(self, tm: TableMapping, collection: str | None = None) -> dict[str, ColumnType]:
        """How each column of a table's query (or of one of its collections) is read: the declared type, else the
        type of the field it feeds (decimal, date, datetime, integer) or of the rule input it is."""
        cache = (tm.table if tm is not self.mapping.checkin else "checkin", collection)
        if cache in self._types:
            return self._types[cache]
        types: dict[str, ColumnType] = {}
        table = self.version[tm.table]
        formats = {r.column: r.format for r in tm.fields.values() if r.column and r.format}
        for rule in tm.rule_names():
            types.update({c: ColumnType(i.type, None, table.by_name[i.field].scale
                                        if i.type == "decimal" and i.field in table.by_name else None)
                          for c, i in rule_inputs(rule, collection).items()})
        for name, rule in tm.fields.items():
            kind = KIND_TYPES.get(table.field(name).kind)
            if not kind or not rule.column or rule.lookup or (rule.collect or None) != collection:
                continue
            if not (table.field(name).sep and not rule.collect):
                types[rule.column] = ColumnType(kind, formats.get(rule.column), table.field(name).scale)
        if tm.auto and collection is None:
            for f in table.fields:
                if KIND_TYPES.get(f.kind) and not f.sep:
                    types.setdefault(f.name.lower(), ColumnType(KIND_TYPES[f.kind], None, f.scale))
        if tm is self.mapping.checkin and collection is None:
            types["event_at"] = ColumnType("datetime")
        for col, ct in (tm.types if collection is None else tm.collections[collection].types).items():
            implied = types.get(col)
            same = implied is not None and implied.type == ct.type
            types[col] = ColumnType(ct.type, ct.format or (implied.format if same else None),
                                    implied.scale if same else None)
        self._types[cache] = types
        return types

    def column_fields(self, tm: TableMapping, collection: str | None = None) -> dict[str, str]:
        """The field of the standard each column concerns (named in findings)."""
        out: dict[str, str] = {}
        for rule in tm.rule_names():
            out.update({c: i.field for c, i in rule_inputs(rule, collection).items()})
        if tm.auto and collection is None:
            out.update({f.name.lower(): f.name for f in self.version[tm.table].fields})
        for name, rule in tm.fields.items():
            if (rule.collect or None) == collection:
                out.update({c: name for c in ([rule.column] if rule.column else []) + list(rule.join)})
        return out

    def prepare(self, tm: TableMapping, src: dict[str, Any], ctx: RuleContext, row: int | None,
                lookups: dict[str, dict[str, Any]], collection: str | None = None) -> dict[str, Any]:
        """One source row as the mapping reads it: column lookups applied, every typed column converted. A value
        that cannot be read is a finding (table, field, column, MA_LK) and is left empty."""
        types = self.column_types(tm, collection)
        col_lookups = tm.lookups if collection is None else tm.collections[collection].lookups
        fields = self.column_fields(tm, collection)
        out = dict(src)
        for col, name in col_lookups.items():
            value = out.get(col)
            if value is not None:
                out[col] = self.translate(value, name, lookups, ctx, fields.get(col, col), row, col)
        for col, ct in types.items():
            if col in out:
                try:
                    out[col] = coerce(out[col], ct)
                except ValueProblem as exc:
                    ctx.problem("MAPPING.VALUE", fields.get(col, col), row=row, value=exc.value,
                                expected=exc.expected, column=_where(col, collection))
                    out[col] = None
        return out

    @staticmethod
    def translate(value: Any, name: str, lookups, ctx: RuleContext, field_name: str, row: int | None,
                   column: str) -> Any:
        table = lookups[name]
        if str(value) not in table:
            ctx.problem("MAPPING.LOOKUP", field_name, row=row, value=value, lookup=name, column=column)
            return None
        return table[str(value)]


def _where(column: str, collection: str | None) -> str:
    return f"collections.{collection}.{column}" if collection else column
