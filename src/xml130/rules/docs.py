"""The rule list as Markdown (``xml130 rules --format markdown`` → docs/rules.md)."""

from __future__ import annotations

from ..params import defaults
from . import all_rules


def render_markdown() -> str:
    lines = [
        "# xml130 rule list",
        "",
        "Generated from `src/xml130/rules/` (`general.py`, `cards.py`, `clinical.py`, `details.py`, `papers.py`, `catalog_rules.py`) by `xml130 rules --format markdown > docs/rules.md`; do not"
        " edit by hand. Thresholds (shared with the mapping): `src/xml130/data/params.toml`; code lists with their periods:"
        " `src/xml130/rules/codelists.toml`. `error` keeps a hồ sơ from being sent (quarantine); `warning` is shown.",
        "",
        "## Severity policy",
        "",
        "A rule is an `error` only where the standard's text requires what it checks (a formula, a code list, a"
        " limit, a format the appendix of QĐ 130/4750 states, a field the portal's QĐ 130 list marks required)"
        " or where the portal is known to reject the hồ sơ. Everything else — bounds we chose, plausibility, the"
        " shape of codes no clause fixes — is a `warning`. Each rule's *clause* column names the decision, table,"
        " field and the words it enforces; where no clause backs a check, it says so and the rule is a warning."
        " The appendix's own examples are tested against these rules: `docs/conformance.md`. *visits*: `insured` rules"
        " only make sense for a visit using BHYT and are skipped for MA_DOITUONG_KCB 9 (người bệnh không KCB BHYT);"
        " `uninsured` rules check only those; `all` apply to every visit.",
        "",
        "| code | severity | visits | tables | fields | period | rule | clause | message |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in all_rules():
        period = f"{r.since or '…'} – {r.until or '…'}" if (r.since or r.until) else "always"
        msg = r.message.replace("|", "\\|")
        source = r.source.replace("|", "\\|")
        lines.append(f"| `{r.code}` | {r.severity} | {r.applies_to} | {', '.join(r.tables)} | {', '.join(r.fields)} | {period} | "
                     f"{r.title} | {source} | {msg} |")
    lines += ["", "## Parameters", "", "| name | value |", "|---|---|"]
    for k, v in defaults().items():
        if isinstance(v, list) and v and isinstance(v[0], dict):  # a table of entries: each one is a rule above
            shown = f"{len(v)} entries (the rules R.{k.upper()}.*)"
            lines.append(f"| `{k}` | {shown} |")
            continue
        shown = str(v).replace("|", "\\|")
        lines.append(f"| `{k}` | `{shown}` |")
    return "\n".join(lines) + "\n"
