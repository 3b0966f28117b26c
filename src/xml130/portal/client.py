"""Client of the giám định portal (Cổng tiếp nhận dữ liệu Hệ thống thông tin giám định BHYT).

Endpoints and names follow the public technical guidance for QĐ 3176 (see ``../shared/standard/README.md``):
``api/token/take`` with the user name and the password's MD5 in upper case gives a token;
``api/qd130/checkInKcbQd3176`` takes a check-in document and ``api/qd130/guiHoSoXmlQD3176`` one signed hồ sơ file,
both base64; answers carry ``maKetQua``, ``maGiaoDich``, ``thoiGianTiepNhan``, ``thongDiep``. The JSON field
names of the requests are not published with certainty: they are settings (:class:`PortalConfig`).

Behaviour: timeouts; retries with exponential backoff on network errors and 5xx/429, for the token call as for
the files; never on a data error (4xx other than 401/429); one token refresh on 401; a minimum interval between
requests (rate limit). :meth:`Receipt.outcome` tells an answer about the data (``rejected``) from one that blames
the sender (``refused``: not signed, signature mismatch, credentials, a wrong path), which must never mark a
hồ sơ rejected. Each request
carries an ``X-Request-Id`` derived from the file (facility, MA_LK, version): a retry after a dropped connection
repeats the same id, so a portal that deduplicates on it — the local simulator does — records the file once.
The password is never logged or stored; only its MD5 is sent, as the portal requires.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import Xml130Error

SUCCESS_CODES = ("200",)
UNSIGNED_CODES = ("123", "125")  # 123 the file is not signed, 125 the signature does not match the content
AUTH_HTTP = (401, 403)  # the credentials, after one token refresh: nothing can go until they are fixed
SENDER_HTTP = (*AUTH_HTTP, 404, 405, 408)  # … and a wrong path or method (settings), a request timeout


class PortalError(Xml130Error, RuntimeError):
    """The portal could not be reached or kept failing after the retries (the file may be sent again later)."""


class PortalAuthError(PortalError):
    """The portal refused the user name or password (``api/token/take``): nothing can be sent until it is fixed."""


@dataclass
class PortalConfig:
    base_url: str
    username: str
    password_env: str = "XML130_PORTAL_PASSWORD"  # the password is read from the environment at use
    token_path: str = "api/token/take"
    checkin_path: str = "api/qd130/checkInKcbQd3176"
    hoso_path: str = "api/qd130/guiHoSoXmlQD3176"
    file_field: str = "fileHoSo"  # JSON field that carries the base64 file
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5  # seconds, doubled each retry
    min_interval: float = 0.0  # seconds between two requests (rate limit)

    def password_md5(self) -> str:
        password = os.environ.get(self.password_env)
        if password is None:
            raise PortalError(f"the portal password is not set (environment variable {self.password_env})")
        return hashlib.md5(password.encode("utf-8")).hexdigest().upper()


@dataclass
class Receipt:
    """What the portal answered to one file, as kept in the ledger."""

    http_status: int | None
    ma_ket_qua: str | None
    ma_giao_dich: str | None
    thoi_gian_tiep_nhan: str | None
    thong_diep: str | None
    raw: dict[str, Any] = field(default_factory=dict)
    attempts: int = 1

    @property
    def accepted(self) -> bool:
        return self.http_status == 200 and self.ma_ket_qua in SUCCESS_CODES

    @property
    def outcome(self) -> str:
        """``accepted``; ``refused`` when the answer blames the sender (the file stays due); else ``rejected``
        (the data was refused: a correction is a new version)."""
        if self.accepted:
            return "accepted"
        if self.ma_ket_qua in UNSIGNED_CODES or self.http_status in SENDER_HTTP:
            return "refused"
        return "rejected"


class PortalClient:
    def __init__(self, config: PortalConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.http = httpx.Client(base_url=config.base_url, timeout=config.timeout, transport=transport)
        self._token: str | None = None
        self._last = 0.0
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests --------------------------------------------------------------------------------------------
    def _pace(self) -> None:
        with self._lock:
            wait = self._last + self.config.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()

    def token(self, refresh: bool = False) -> str:
        if self._token and not refresh:
            return self._token
        payload = {"username": self.config.username, "password": self.config.password_md5()}
        r, _ = self._post(self.config.token_path, payload, lambda: {})
        body = _json(r)
        token = body.get("access_token") or (body.get("APIKey") or {}).get("access_token")
        if r.status_code != 200 or not token:
            raise PortalAuthError(f"token refused: HTTP {r.status_code} {body.get('thongDiep', '')}")
        self._token = token
        return token

    def _post(self, path: str, payload: dict[str, Any], headers: Callable[[], dict[str, str]]
              ) -> tuple[httpx.Response, int]:
        """POST with retries and backoff on network errors and 5xx/429; any other answer is returned as is, with
        the number of attempts it took. No answer after the retries is a :class:`PortalError`."""
        delay = self.config.backoff
        attempts = 0
        last_error = ""
        while attempts <= self.config.retries:
            attempts += 1
            self._pace()
            self.requests += 1
            try:
                r = self.http.post(path, json=payload, headers=headers())
            except httpx.TransportError as exc:  # refused, timed out, or the connection dropped
                last_error = f"{type(exc).__name__}"
            else:
                if r.status_code < 500 and r.status_code != 429:
                    return r, attempts
                last_error = f"HTTP {r.status_code}"
            if attempts <= self.config.retries:
                time.sleep(delay)
                delay *= 2
        raise PortalError(f"{path}: no answer after {attempts} attempts ({last_error})")

    def _send(self, path: str, data: bytes, request_id: str) -> Receipt:
        payload = {self.config.file_field: base64.b64encode(data).decode("ascii")}

        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {self.token()}", "X-Request-Id": request_id}

        r, attempts = self._post(path, payload, headers)
        if r.status_code == 401:  # the token expired: take a new one, once
            self.token(refresh=True)
            r, more = self._post(path, payload, headers)
            attempts += more
        body = _json(r)  # an answer about the file: never retried
        return Receipt(r.status_code, _s(body.get("maKetQua")), _s(body.get("maGiaoDich")),
                       _s(body.get("thoiGianTiepNhan")), _s(body.get("thongDiep")), body, attempts)

    def send_hoso(self, data: bytes, request_id: str) -> Receipt:
        return self._send(self.config.hoso_path, data, request_id)

    def send_checkin(self, data: bytes, request_id: str) -> Receipt:
        return self._send(self.config.checkin_path, data, request_id)


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        return {"thongDiep": r.text[:500]}
    return body if isinstance(body, dict) else {"data": body}


def _s(v: Any) -> str | None:
    return None if v is None else str(v)
