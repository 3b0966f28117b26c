"""Prefect flow ``submit``: send staged, signed check-ins and hồ sơ to the portal, in order, each once.

Credentials never appear in parameters or logs: the portal password and the PKCS#12 password come from the
environment (``XML130_PORTAL_PASSWORD``, ``XML130_P12_PASSWORD``), else from Prefect Secret blocks
(``xml130-portal-password``, ``xml130-p12-password``); the ledger URL as in the other flows (``_common``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from prefect import flow, task

from xml130 import jobs
from xml130.portal.client import PortalClient, PortalConfig
from xml130.signing import PASSWORD_ENV, P12Signer

from ._common import database_url, publish, secret


def _secret(block: str, env: str) -> None:
    """Put a Prefect Secret into the environment variable the library reads (only for this process)."""
    value = secret(block, env)
    if value:
        os.environ[env] = value


@task
def send(outbox: str, ledger: str, portal: str, user: str, p12: str | None, dry_run: bool, unsigned: bool) -> dict:
    _secret("xml130-portal-password", "XML130_PORTAL_PASSWORD")
    _secret("xml130-p12-password", PASSWORD_ENV)
    signer = P12Signer.from_file(p12) if p12 else None
    with contextlib.nullcontext() if dry_run else PortalClient(PortalConfig(base_url=portal, username=user)) as client:
        return jobs.submit(Path(outbox), ledger, client, signer, dry_run=dry_run, unsigned=unsigned).as_dict()


@flow(name="submit")
def submit(outbox: str, portal: str, user: str, ledger: str | None = None, p12: str | None = None,
           dry_run: bool = False, unsigned: bool = False) -> dict:
    """Without ``p12`` the flow fails before sending anything, unless ``unsigned`` (only for the simulator).
    ``ledger``: none = XML130_LEDGER or the Secret block ``xml130-ledger-url`` (see ``_common``)."""
    ledger = database_url("ledger", ledger)
    report = send(outbox, ledger, portal, user, p12, dry_run, unsigned)
    publish(report, "submit")
    return report
