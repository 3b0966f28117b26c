"""What the benchmarks that read a demo HIS share: where the HIS lives (SQLite in a temporary folder, or the
PostgreSQL server of this machine)."""

from __future__ import annotations

import argparse

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def add_his_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL URL (its demo tables are dropped and re-created)")


def his_url(args: argparse.Namespace, folder: str) -> str:
    return f"sqlite:///{folder}/his.db" if args.db == "sqlite" else args.pg
