"""Signing commands: ``sign``, ``verify``, ``signer-sim`` (the local remote-signing simulator)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from . import Format, app, fail, out, serve_until_stopped

# The signer options, shared by `sign` and `submit`: exactly one of a PKCS#12 file, a token or a remote signer.
P12 = Annotated[Path | None, typer.Option("--p12", help="PKCS#12 file (password: XML130_P12_PASSWORD).")]
Pkcs11Module = Annotated[str | None, typer.Option("--pkcs11-module", help="The token's PKCS#11 library "
                                                  "(PIN: XML130_PKCS11_PIN).")]
Token = Annotated[str | None, typer.Option("--token", help="Token label.")]
Key = Annotated[str | None, typer.Option("--key", help="Label of the key on the token.")]
Remote = Annotated[str | None, typer.Option("--remote", help="Base URL of a remote-signing service "
                                            "(secret: XML130_REMOTE_SECRET).")]
ClientId = Annotated[str | None, typer.Option("--client-id")]
RemoteUser = Annotated[str | None, typer.Option("--remote-user", help="The signer's account there.")]
Wait = Annotated[float | None, typer.Option("--wait", help="Seconds to wait for the signer's confirmation.")]


@app.command()
def sign(
    file: Annotated[Path, typer.Argument(help="A GIAMDINHHS envelope or a check-in document.")],
    output: Annotated[Path, typer.Option("--out")],
    p12: P12 = None,
    pkcs11_module: Pkcs11Module = None,
    token: Token = None,
    key: Key = None,
    remote: Remote = None,
    client_id: ClientId = None,
    remote_user: RemoteUser = None,
    wait: Wait = None,
) -> None:
    """Sign a file (enveloped XML-DSig, RSA-SHA256, in CHUKYDONVI) with a PKCS#12 file, a token or a remote signer."""
    from ..signing import SigningError
    from ..signing.choose import open_signer
    from ..store.files import write_atomic

    try:
        signer = open_signer(p12=p12, pkcs11_module=pkcs11_module, token=token, key=key, remote=remote,
                             client_id=client_id, remote_user=remote_user, wait=wait)
        signed = signer.sign(file.read_bytes())
    except (SigningError, OSError) as exc:
        fail("Không ký được:", exc)
    write_atomic(output, signed)
    out.print(f"signed: {output}", markup=False)


@app.command()
def verify(
    file: Annotated[Path, typer.Argument()],
    ca: Annotated[Path | None, typer.Option("--ca", help="PEM of the trusted CA(s).")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.text,
) -> None:
    """Check a file's signature and certificate: exit 0 valid, else the exit code of the first problem
    (10 unsigned, 11 malformed, 12 content changed, 13 signature value wrong, 14 expired, 15 not yet valid,
    16 untrusted, 17 not for signing; 2 unreadable)."""
    from ..signing import verify as check

    try:
        result = check(file.read_bytes(), ca_pem=ca.read_bytes() if ca else None)
    except OSError as exc:
        fail("Không đọc được:", exc)
    if fmt == Format.json:
        out.print(json.dumps({"file": str(file), **result.as_dict()}, ensure_ascii=False), markup=False)
    else:
        out.print(f"{file}: {'HỢP LỆ' if result.valid else 'KHÔNG HỢP LỆ'} [{result.code}] {result.reason}"
                  + (f" ({result.subject})" if result.subject else ""), markup=False)
    raise typer.Exit(result.exit_code)



@app.command("signer-sim")
def signer_sim(
    p12: Annotated[Path, typer.Option("--p12", help="The signer's key (password: XML130_P12_PASSWORD).")],
    mode: Annotated[str, typer.Option("--mode", help="confirm | refuse | never")] = "confirm",
    delay: Annotated[float, typer.Option("--delay", help="Seconds before the signer answers.")] = 3.0,
    expire_after: Annotated[float | None, typer.Option("--expire-after")] = None,
    port: Annotated[int, typer.Option("--port")] = 8131,
    client_id: Annotated[str, typer.Option("--client-id")] = "xml130",
    user: Annotated[str, typer.Option("--user")] = "bv79999",
) -> None:
    """Run the local remote-signing simulator on 127.0.0.1 (secret from XML130_REMOTE_SECRET) until interrupted."""

    from ..demo.signer_sim import SignerSim
    from ..errors import Xml130Error
    from ..signing import P12Signer, SigningError

    secret = os.environ.get("XML130_REMOTE_SECRET")
    try:
        if not secret:
            raise SigningError("set XML130_REMOTE_SECRET")
        held = P12Signer.from_file(p12)
        sim = SignerSim(held.key, held.certificate, client_id=client_id, secret=secret, user_id=user, mode=mode,
                        delay=delay, expire_after=expire_after)
    except (Xml130Error, OSError) as exc:
        fail("Không chạy được:", exc)
    serve_until_stopped(sim, port, f"remote-signing simulator at {{url}} (mode {mode}, user {user})",
                         lambda: f"remote-signing simulator stopped: {sim.requests} signing requests")

