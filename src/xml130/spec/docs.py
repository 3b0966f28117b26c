"""Field reference generated from the spec data (``xml130 spec-docs`` → docs/spec.md)."""

from __future__ import annotations

from . import Field, load_spec


def _kind(f: Field) -> str:
    k = f.kind + (f"({f.scale})" if f.scale is not None else "")
    return k + (f" `{f.sep}`-list" if f.sep else "")


def render_markdown() -> str:
    spec = load_spec()
    lines = [
        "# xml130 field reference",
        "",
        "Generated from `src/xml130/spec/data` by `xml130 spec-docs`; do not edit by hand.",
        "",
        "| version | in force from | decisions applied |",
        "|---|---|---|",
    ]
    for v in spec.versions:
        lines.append(f"| {v.id} | {v.effective_from.isoformat()} | {', '.join(v.decisions)} |")
    previous = None
    for v in spec.versions:
        lines += ["", f"## Version {v.id}: {v.title} (from {v.effective_from.isoformat()})", ""]
        if previous is not None:
            changed = []
            for t in v:
                old = previous[t.id].by_name
                for f in t.fields:
                    if f.name not in old:
                        changed.append(f"- {t.id}.{f.name}: added ({_kind(f)}, size {f.size or 'n'})")
                    elif old[f.name] != f:
                        changed.append(f"- {t.id}.{f.name}: now {_kind(f)}, size {f.size or 'n'}, required {f.required},"
                                       f" pattern `{f.pattern}`" + (f" — {f.note}" if f.note else ""))
                for name in old:
                    if name not in t.by_name:
                        changed.append(f"- {t.id}.{name}: removed")
            lines += ["Changes from the previous version:", "", *changed]
            previous = v
            continue
        for t in v:
            list_part = f" › `{t.list}` › `{t.row}`" if t.is_list else ""
            lines += [f"### {t.id} — {t.title}", "", f"Root `{t.root}`{list_part}.", "",
                      "| # | field | kind | size | required | pattern | source | note |", "|---|---|---|---|---|---|---|---|"]
            for i, f in enumerate(t.fields, start=1):
                pattern = f"`{f.pattern}`" if f.pattern else ""
                lines.append(f"| {i} | {f.name} | {_kind(f)} | {f.size or 'n'} | {f.required} | {pattern} | "
                             f"{f.source_label} | {f.note} |")
            lines.append("")
        previous = v
    return "\n".join(lines) + "\n"
