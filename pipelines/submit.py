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
from xml130.signing import PASSWORD_ENV
from xml130.signing.choose import open_signer

from ._common import database_url, publish, secret


def _secret(block: str, env: str) -> None:
    """Put a Prefect Secret into the environment variable the library reads (only for this process)."""
    value = secret(block, env)
    if value:
        os.environ[env] = value


@task
def send(outbox: str, ledger: str, portal: str, user: str, signer_settings: dict, dry_run: bool,
         unsigned: bool) -> dict:
    _secret("xml130-portal-password", "XML130_PORTAL_PASSWORD")
    _secret("xml130-p12-password", PASSWORD_ENV)
    chosen = {k: v for k, v in signer_settings.items() if v is not None}
    signer = None if dry_run or unsigned or not chosen else open_signer(**chosen)
    with contextlib.nullcontext() if dry_run else PortalClient(PortalConfig(base_url=portal, username=user)) as client:
        return jobs.submit(Path(outbox), ledger, client, signer, dry_run=dry_run, unsigned=unsigned).as_dict()


@flow(name="submit")
def submit(outbox: str, portal: str, user: str, ledger: str | None = None, p12: str | None = None,
           pkcs11_module: str | None = None, token: str | None = None, key: str | None = None,
           remote: str | None = None, client_id: str | None = None, remote_user: str | None = None,
           dry_run: bool = False, unsigned: bool = False) -> dict:
    """Signs with exactly one of ``p12`` (a PKCS#12 file), ``pkcs11_module`` + ``token`` + ``key`` (a USB token;
    PIN from XML130_PKCS11_PIN or the Secret block ``xml130-pkcs11-pin``) or ``remote`` + ``client_id`` +
    ``remote_user`` (a remote-signing service; its secret from XML130_REMOTE_SECRET or ``xml130-remote-secret``):
    a version whose remote signature is not confirmed yet waits as ``awaiting_signature``. Without a signer the
    flow fails before sending anything, unless ``unsigned`` (only for the simulator).
    ``ledger``: none = XML130_LEDGER or the Secret block ``xml130-ledger-url`` (see ``_common``)."""
    ledger = database_url("ledger", ledger)
    settings = {"p12": Path(p12) if p12 else None, "pkcs11_module": pkcs11_module, "token": token, "key": key,
                "remote": remote, "client_id": client_id, "remote_user": remote_user}
    report = send(outbox, ledger, portal, user, settings, dry_run, unsigned)
    publish(report, "submit")
    return report
