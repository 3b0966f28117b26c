"""The rule catalogue as Markdown (``xml130 rules --format markdown`` → docs/rules.md)."""

from __future__ import annotations

from . import all_rules, params


def render_markdown() -> str:
    lines = [
        "# xml130 rule catalogue",
        "",
        "Generated from `src/xml130/rules/catalogue.py` by `xml130 rules --format markdown > docs/rules.md`; do not"
        " edit by hand. Thresholds (shared with the mapping): `src/xml130/data/params.toml`; code lists with their periods:"
        " `src/xml130/rules/codelists.toml`. `error` keeps a hồ sơ from being sent (quarantine); `warning` is shown.",
        "",
        "| code | severity | tables | fields | period | rule | message |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in all_rules():
        period = f"{r.since or '…'} – {r.until or '…'}" if (r.since or r.until) else "always"
        msg = r.message.replace("|", "\\|")
        lines.append(f"| `{r.code}` | {r.severity} | {', '.join(r.tables)} | {', '.join(r.fields)} | {period} | "
                     f"{r.title} | {msg} |")
    lines += ["", "## Parameters", "", "| name | value |", "|---|---|"]
    for k, v in params().items():
        shown = str(v).replace("|", "\\|")
        lines.append(f"| `{k}` | `{shown}` |")
    return "\n".join(lines) + "\n"
