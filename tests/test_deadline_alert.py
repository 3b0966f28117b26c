"""A version about to miss its deadline raises an alert through Prefect, against a real temporary Prefect server:
the `deadline_alert` flow runs there, the notification block `custom-webhook/xml130-deadline-alert` posts the
list to a webhook (a local HTTP server here), the event `xml130.deadline.at-risk` reaches the server, and a second
run announces nothing new. Fails, never skips (about a minute)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from xml130.store.ledger import Ledger
from xml130.store.tables import now

from .e2e import ROOT, Site, doc_steps

SCRIPT = """
import json, sys
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from pipelines.deadline_alert import deadline_alert
CustomWebhookNotificationBlock(name="xml130", url=sys.argv[1], json_data={"subject": "{{subject}}", "text": "{{body}}"}
                               ).save("xml130-deadline-alert", overwrite=True)
print(json.dumps([deadline_alert(within_hours=6, ledger=sys.argv[2]), deadline_alert(within_hours=6, ledger=sys.argv[2])]))
"""


@pytest.fixture
def webhook():
    got: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()


def test_a_deadline_within_the_hours_is_notified_once_through_a_prefect_block(tmp_path, webhook):
    url, got = webhook
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    soon, later = now() + dt.timedelta(hours=2), now() + dt.timedelta(days=3)
    Ledger(ledger).add_versions([dict(
        facility="79999", ma_lk=m, version=1, content_hash=m, spec_version="3176", status="staged", reasons=None,
        path=f"79999/x/{m}/v1.xml", closed_at=d - dt.timedelta(hours=3), deadline_at=d, run_id="r", replaces=None)
        for m, d in (("79999SOON", soon), ("79999LATER", later))])
    site = Site(tmp_path)
    try:
        server = site.start(doc_steps("server")[0])
        site.wait_for_server(server)
        r = subprocess.run([sys.executable, "-c", SCRIPT, url, ledger], cwd=ROOT, env=site.env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
        first, second = json.loads(r.stdout.strip().splitlines()[-1])
        assert first == {"due": 1, "notified": True} and second == {"due": 0, "notified": False}
        assert len(got) == 1  # once, not again on the second run
        assert got[0]["subject"] == "xml130: 1 hồ sơ sắp quá hạn gửi cổng giám định (trong 6 giờ)"
        assert got[0]["text"].splitlines() == [
            "1 hồ sơ chưa được cổng tiếp nhận sắp đến hạn trong 6 giờ (0 đã quá hạn):",
            f"- 79999SOON v1 (staged): hạn {soon.isoformat()}, còn 2 giờ"]
        end, events = time.monotonic() + 60, []
        while time.monotonic() < end and not events:
            events = site.post("/events/filter", {"filter": {"event": {"prefix": ["xml130.deadline"]}}})["events"]
            time.sleep(1)
        assert [(e["event"], e["resource"]["prefect.resource.id"]) for e in events] == [
            ("xml130.deadline.at-risk", "xml130.facility.79999")]
        assert [x["ma_lk"] for x in events[0]["payload"]["items"]] == ["79999SOON"]
        runs = site.post("/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}})
        assert sorted(r["name"] for r in runs) and len(runs) == 2  # both runs recorded on the server
        site.stop(server)
    finally:
        site.close()
