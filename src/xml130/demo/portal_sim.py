"""A local stand-in for the giám định portal, for tests and for trying the pipeline end to end
(``xml130 portal-sim``). It behaves like the real one as far as public material says:

- ``api/token/take`` checks the user name and the upper-case MD5 of the password and returns a token that
  expires after ``token_ttl`` seconds (401 afterwards);
- the send endpoints decode the base64 file, answer code 123 when it is not signed, 125 when the signature does
  not match (the file was changed after signing), HTTP 422 with the findings of our own validator (XSD and fields)
  when the data is wrong, and 200 with ``maKetQua`` 200, a ``maGiaoDich`` and ``thoiGianTiepNhan`` otherwise;
- it keeps every file it accepted (``received``), once per ``X-Request-Id``.

Fault modes for the client's tests: ``slow`` (delay every answer), ``fail_5xx`` (the next N requests answer 503),
``drop`` (the next N requests are processed and recorded, then the connection is closed without an answer),
``expire_tokens()`` (every token becomes invalid at once).
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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..findings import ERROR
from ..signing import verify
from ..validate import validate_bytes
from .localserver import serve


@dataclass
class Faults:
    slow: float = 0.0
    fail_5xx: int = 0
    drop: int = 0


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

    def __post_init__(self):
        self._tokens: dict[str, float] = {}
        self._by_request: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

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
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        if self.faults.slow:
            time.sleep(self.faults.slow)
        with self._lock:
            if self.faults.fail_5xx > 0:
                self.faults.fail_5xx -= 1
                return self._answer(h, 503, {"thongDiep": "Hệ thống đang bận"})
            drop = self.faults.drop > 0
            if drop:
                self.faults.drop -= 1
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._answer(h, 400, {"maKetQua": "400", "thongDiep": "JSON không hợp lệ"})
        path = h.path.lstrip("/")
        if path == "api/token/take":
            return self._token(h, body)
        if path not in ("api/qd130/guiHoSoXmlQD3176", "api/qd130/checkInKcbQd3176"):
            return self._answer(h, 404, {"thongDiep": "không có API này"})
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        with self._lock:
            alive = self._tokens.get(token, 0) > time.monotonic()
        if not alive:
            return self._answer(h, 401, {"maKetQua": "401", "thongDiep": "Token không hợp lệ hoặc đã hết hạn"})
        status, answer = self._receive(path, body, h.headers.get("X-Request-Id"))
        if drop:  # processed and recorded, but the answer is lost on the way back
            h.close_connection = True
            h.connection.shutdown(2)
            return None
        return self._answer(h, status, answer)

    def _token(self, h, body) -> None:
        want = hashlib.md5(self.password.encode()).hexdigest().upper()
        if body.get("username") != self.username or body.get("password") != want:
            return self._answer(h, 401, {"maKetQua": "401", "thongDiep": "Sai tên đăng nhập hoặc mật khẩu"})
        token = uuid.uuid4().hex
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_ttl
        return self._answer(h, 200, {"maKetQua": "200", "access_token": token, "expires_in": self.token_ttl})

    def _receive(self, path: str, body: dict, request_id: str | None) -> tuple[int, dict]:
        with self._lock:
            if request_id and request_id in self._by_request:
                return 200, self._by_request[request_id]  # the same request again: the same receipt
        try:
            data = base64.b64decode(body.get(self.file_field, ""), validate=True)
        except (binascii.Error, ValueError):
            return 422, {"maKetQua": "422", "thongDiep": "Nội dung không phải base64"}
        check = verify(data, ca_pem=self.ca_pem)
        if not check.valid:
            code = "123" if check.reason.startswith("chưa ký số") else "125"
            text = "File chưa được ký số" if code == "123" else "Ký sai, file gốc có thể đã bị chỉnh sửa"
            return 200, {"maKetQua": code, "thongDiep": text}
        findings = [f for f in validate_bytes(data, rules=False) if f.severity == ERROR]
        if findings:
            return 422, {"maKetQua": "422", "thongDiep": "Dữ liệu không hợp lệ",
                         "loi": [{"bang": f.table, "truong": f.field, "dong": f.row, "ma": f.code,
                                  "thongDiep": f.message} for f in findings]}
        answer = {"maKetQua": "200", "maGiaoDich": uuid.uuid4().hex,
                  "thoiGianTiepNhan": dt.datetime.now().strftime("%Y%m%d%H%M%S"), "thongDiep": "Thành công"}
        with self._lock:
            self.received.append(Received(path, request_id, data, answer["maGiaoDich"], answer["thoiGianTiepNhan"]))
            if request_id:
                self._by_request[request_id] = answer
        return 200, answer

    @staticmethod
    def _answer(h, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
