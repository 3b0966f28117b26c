"""A local stand-in for the giám định portal, for tests and for trying the pipeline end to end
(``xml130 portal-sim``). It behaves like the real one as far as public material says:

- ``api/token/take`` checks the user name and the upper-case MD5 of the password and returns a token that
  expires after ``token_ttl`` seconds (401 afterwards);
- the send endpoints decode the base64 file, answer code 123 when it is not signed, 125 when the signature does
  not match (the file was changed after signing), HTTP 422 with the findings of our own validator (XSD and fields)
  when the data is wrong, and 200 with ``maKetQua`` 200, a ``maGiaoDich`` and ``thoiGianTiepNhan`` otherwise;
- it keeps every file it accepted (``received``), once per ``X-Request-Id``.

Fault modes for the client's tests: ``slow`` (delay every answer), ``fail_5xx`` (the next N requests of any
endpoint answer 503), ``token_5xx`` (the next N token calls answer 503: a token outage), ``drop`` (the next N *files*
— the two send endpoints only, a token call never uses one up — are processed and recorded, then the connection is
closed without an answer), ``expire_tokens()`` (every token becomes invalid at once). Data rejections of hồ sơ files
on demand: ``reject_ma_lk`` (these MA_LK) and ``reject_every`` (every Nth hồ sơ that passes the checks) answer HTTP 422
with ``maKetQua`` 422 and ``thongDiep`` as the portal does for wrong data. Every request is one line for ``log``
(endpoint, request id, outcome, fault injected); ``fault_counts`` counts the faults injected per endpoint.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..findings import ERROR
from ..signing import verify
from ..validate import validate_bytes
from .localserver import serve

TOKEN = "api/token/take"
HOSO, CHECKIN = "api/qd130/guiHoSoXmlQD3176", "api/qd130/checkInKcbQd3176"
DATA_ENDPOINTS = (HOSO, CHECKIN)
REJECTED = "Dữ liệu không hợp lệ"


@dataclass
class Faults:
    slow: float = 0.0
    fail_5xx: int = 0  # the next N requests, any endpoint
    token_5xx: int = 0  # the next N token calls
    drop: int = 0  # the next N files (send endpoints only)
    reject_ma_lk: frozenset[str] = frozenset()  # hồ sơ of these MA_LK are refused as wrong data (422)
    reject_every: int = 0  # every Nth hồ sơ that passes the checks is refused as wrong data (422)


@dataclass
class Received:
    path: str
    request_id: str | None
    data: bytes
    ma_giao_dich: str
    at: str


@dataclass
class PortalSim:
    username: str = "bv79999"
    password: str = "mat-khau-thu"
    token_ttl: float = 3600.0
    ca_pem: bytes | None = None
    file_field: str = "fileHoSo"
    faults: Faults = field(default_factory=Faults)
    received: list[Received] = field(default_factory=list)
    requests: int = 0
    log: Callable[[str], None] | None = None  # one line per request
    fault_counts: Counter = field(default_factory=Counter)  # (endpoint, fault) -> how many were injected

    def __post_init__(self):
        self._tokens: dict[str, float] = {}
        self._by_request: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._checked = 0  # files that reached the data check (for reject_every)
        self._gates: dict[str, threading.Lock] = {}  # one lock per request id

    # --- lifecycle --------------------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server, url = serve(self.handle, host, port)
        return url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # --- requests ----------------------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
        path = h.path.lstrip("/")
        request_id = h.headers.get("X-Request-Id")
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        status, answer, fault = self._process(h, path, raw, request_id)
        if fault:
            with self._lock:
                self.fault_counts[(path, fault)] += 1
        if self.log is not None:
            outcome = "no answer" if status is None else f"HTTP {status} maKetQua={answer.get('maKetQua', '-')}"
            self.log(f"{dt.datetime.now().isoformat(timespec='seconds')} {path} id={request_id or '-'} {outcome} "
                     f"fault={fault or '-'}")
        if status is None:  # processed and recorded, but the answer is lost on the way back
            h.close_connection = True
            h.connection.shutdown(2)
            return
        self._answer(h, status, answer)

    def fault_summary(self) -> str:
        """The faults injected, per endpoint (``-`` when none)."""
        per: dict[str, list[str]] = {}
        for (path, fault), n in sorted(self.fault_counts.items()):
            per.setdefault(path, []).append(f"{fault} {n}")
        return "; ".join(f"{path}: {', '.join(faults)}" for path, faults in per.items()) or "-"

    def _take_fault(self, path: str) -> str | None:
        """The fault this request gets, counted down (one at most)."""
        f = self.faults
        with self._lock:
            if f.fail_5xx > 0:
                f.fail_5xx -= 1
                return "fail_5xx"
            if path == TOKEN and f.token_5xx > 0:
                f.token_5xx -= 1
                return "token_5xx"
            if path in DATA_ENDPOINTS and f.drop > 0:
                f.drop -= 1
                return "drop"
        return None

    def _process(self, h, path: str, raw: bytes, request_id: str | None) -> tuple[int | None, dict, str | None]:
        """(HTTP status — None: no answer —, answer, fault injected)."""
        if self.faults.slow:
            time.sleep(self.faults.slow)
        fault = self._take_fault(path)
        if fault in ("fail_5xx", "token_5xx"):
            return 503, {"thongDiep": "Hệ thống đang bận"}, fault
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"maKetQua": "400", "thongDiep": "JSON không hợp lệ"}, fault
        if path == TOKEN:
            return (*self._token(body), fault)
        if path not in DATA_ENDPOINTS:
            return 404, {"thongDiep": "không có API này"}, fault
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        with self._lock:
            alive = self._tokens.get(token, 0) > time.monotonic()
        if not alive:
            return 401, {"maKetQua": "401", "thongDiep": "Token không hợp lệ hoặc đã hết hạn"}, fault
        status, answer, rejected = self._receive(path, body, request_id)
        if fault == "drop":
            return None, answer, fault
        return status, answer, fault or rejected

    def _token(self, body) -> tuple[int, dict]:
        want = hashlib.md5(self.password.encode()).hexdigest().upper()
        if body.get("username") != self.username or body.get("password") != want:
            return 401, {"maKetQua": "401", "thongDiep": "Sai tên đăng nhập hoặc mật khẩu"}
        token = uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return 200, {"maKetQua": "200", "access_token": token, "expires_in": self.token_ttl}

    def _receive(self, path: str, body: dict, request_id: str | None) -> tuple[int, dict, str | None]:
        """(HTTP status, answer, the data rejection injected: ``reject`` or None). Two requests with one request id
        (a retry while the first is still being processed) are handled one after the other: recorded once."""
        if not request_id:
            return self._check(path, body, request_id)
        with self._lock:
            gate = self._gates.setdefault(request_id, threading.Lock())
        with gate:
            return self._check(path, body, request_id)

    def _check(self, path: str, body: dict, request_id: str | None) -> tuple[int, dict, str | None]:
        with self._lock:
            if request_id and request_id in self._by_request:
                return 200, self._by_request[request_id], None  # the same request again: the same receipt
        try:
            data = base64.b64decode(body.get(self.file_field, ""), validate=True)
        except (binascii.Error, ValueError):
            return 422, {"maKetQua": "422", "thongDiep": "Nội dung không phải base64"}, None
        check = verify(data, ca_pem=self.ca_pem)
        if not check.valid:
            code = "123" if check.reason.startswith("chưa ký số") else "125"
            text = "File chưa được ký số" if code == "123" else "Ký sai, file gốc có thể đã bị chỉnh sửa"
            return 200, {"maKetQua": code, "thongDiep": text}, None
        findings = [f for f in validate_bytes(data, rules=False) if f.severity == ERROR]
        if findings:
            return 422, {"maKetQua": "422", "thongDiep": REJECTED,
                         "loi": [{"bang": f.table, "truong": f.field, "dong": f.row, "ma": f.code,
                                  "thongDiep": f.message} for f in findings]}, None
        refused = self._injected_rejection(data) if path == HOSO else None
        if refused:
            return 422, {"maKetQua": "422", "thongDiep": REJECTED, "loi": [refused]}, "reject"
        answer = {"maKetQua": "200", "maGiaoDich": uuid.uuid4().hex,
                  "thoiGianTiepNhan": dt.datetime.now().strftime("%Y%m%d%H%M%S"), "thongDiep": "Thành công"}
        with self._lock:
            self.received.append(Received(path, request_id, data, answer["maGiaoDich"], answer["thoiGianTiepNhan"]))
            if request_id:
                self._by_request[request_id] = answer
        return 200, answer, None

    def _injected_rejection(self, data: bytes) -> dict | None:
        """The error of a data rejection asked for (by MA_LK, or every Nth hồ sơ), else None."""
        with self._lock:
            self._checked += 1
            nth = self.faults.reject_every > 0 and self._checked % self.faults.reject_every == 0
        ma_lk = _ma_lk(data)
        if ma_lk in self.faults.reject_ma_lk or nth:
            why = "theo danh sách MA_LK" if ma_lk in self.faults.reject_ma_lk else f"mỗi {self.faults.reject_every} hồ sơ"
            return {"bang": "XML1", "truong": "MA_LK", "dong": 1,
                    "ma": "SIM.REJECT", "thongDiep": f"Mô phỏng từ chối dữ liệu ({why}): MA_LK {ma_lk}"}
        return None

    @staticmethod
    def _answer(h, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def _ma_lk(data: bytes) -> str | None:
    """The MA_LK of a hồ sơ envelope (None when it cannot be read)."""
    from ..decode import describe

    try:
        doc = describe(data)
    except ValueError:
        return None
    hosos = doc.get("hoso") or [{}]
    return hosos[0].get("ma_lk")
