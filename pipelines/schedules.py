"""The id of a deployment's schedule, for scripts (docs/operations.md):

    prefect deployment schedule pause submit/submit "$(python -m pipelines.schedules submit/submit)"
    prefect deployment schedule delete nightly_export/nightly \
        "$(python -m pipelines.schedules nightly_export/nightly --interval 30)" -y

Prints the id of the one schedule of DEPLOYMENT (flow/deployment) that matches — ``--interval SECONDS`` or
``--cron EXPR``, or the deployment's only schedule when neither is given — on the server of PREFECT_API_URL. None or
several: exit 1 with the schedules listed, so the ``prefect`` command around it fails instead of acting on the wrong
one.
"""

from __future__ import annotations

import argparse
import sys


def matching(deployment: str, interval: float | None = None, cron: str | None = None) -> list[tuple[str, str]]:
    """(id, description) of the deployment's schedules that match."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_deployment_by_name(deployment)
    out = []
    for s in found.schedules:
        seconds = getattr(s.schedule, "interval", None)
        expr = getattr(s.schedule, "cron", None)
        described = f"interval {seconds.total_seconds():g} s" if seconds is not None else f"cron {expr}"
        if (interval is None or (seconds is not None and seconds.total_seconds() == interval)) and (
                cron is None or expr == cron):
            out.append((str(s.id), f"{described}, {'active' if s.active else 'paused'}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.schedules", description=__doc__.splitlines()[0])
    parser.add_argument("deployment", help="flow/deployment, e.g. nightly_export/nightly")
    parser.add_argument("--interval", type=float, help="the schedule that runs every SECONDS")
    parser.add_argument("--cron", help="the schedule with this cron expression")
    args = parser.parse_args(argv)
    every = matching(args.deployment)
    chosen = matching(args.deployment, args.interval, args.cron)
    if len(chosen) != 1:
        listed = "; ".join(f"{i} ({d})" for i, d in every) or "none"
        print(f"{args.deployment}: {len(chosen)} schedules match (its schedules: {listed})", file=sys.stderr)
        return 1
    print(chosen[0][0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
