"""Which signer a command asked for: exactly one of a PKCS#12 file, a PKCS#11 token or a remote service."""

from __future__ import annotations

from pathlib import Path

from .core import SigningError


def open_signer(*, p12: Path | None = None, pkcs11_module: str | None = None, token: str | None = None,
                key: str | None = None, remote: str | None = None, client_id: str | None = None,
                remote_user: str | None = None, wait: float | None = None):
    chosen = [name for name, v in (("--p12", p12), ("--pkcs11-module", pkcs11_module), ("--remote", remote)) if v]
    if len(chosen) != 1:
        raise SigningError("chọn đúng một cách ký: --p12, --pkcs11-module (với --token, --key) hoặc --remote "
                           f"(với --client-id, --remote-user); đã cho: {', '.join(chosen) or 'không có'}")
    if p12:
        from .p12 import P12Signer

        return P12Signer.from_file(p12)
    if pkcs11_module:
        if not token or not key:
            raise SigningError("--pkcs11-module cần --token LABEL và --key LABEL")
        from .token import Pkcs11Signer

        return Pkcs11Signer(pkcs11_module, token, key)
    if not client_id or not remote_user:
        raise SigningError("--remote cần --client-id và --remote-user")
    from .remote import RemoteConfig, RemoteSigner

    config = RemoteConfig(base_url=remote, client_id=client_id, user_id=remote_user)
    if wait is not None:
        config.wait = wait
    return RemoteSigner(config)
