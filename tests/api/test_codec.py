"""What Temporal stores is encrypted; the codec endpoints give it back to the Web UI."""

from __future__ import annotations

import base64

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.converter import DataConverter

from core.codec import EncryptionCodec, Keyring, new_key_line
from tests.api.test_cases import is_problem, local_date_now, notice_body
from tests.helpers import CAROLINE, PRISON, bearer, next_bsn

# The codec does not depend on the read model: one database is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

UI = "http://localhost:8233"
ADMIN = bearer("beheer", "admin")


def stored_bytes(history: History) -> bytes:
    return History(events=history.events).SerializeToString()


async def test_temporal_stores_no_bsn_or_name_in_clear(api, dev_env):
    bsn, surname = next_bsn(), "Oosterhuis-Vrijland"
    body = notice_body(person={"bsn": bsn, "given_names": "Joke", "surname": surname, "birth_date": "1988-04-02"})
    started = await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    completed = await api.post(
        f"/v1/cases/{case_id}/tasks/contact_prison/complete",
        json={"outcome": {"kind": "contact", "contacted_on": str(local_date_now()), "note": f"{surname} gesproken"}},
        headers=CAROLINE,
    )
    assert completed.status_code == 200, completed.text

    # Temporal's own view, as its database, the Web UI or `temporal workflow show` have it.
    raw = Client(dev_env.client.service_client, namespace=dev_env.client.namespace)
    history = await raw.get_workflow_handle(case_id).fetch_history()
    stored = stored_bytes(history)
    assert b"binary/encrypted" in stored and b"encryption-key-id" in stored
    assert bsn.encode() not in stored
    assert surname.encode() not in stored and b"Joke" not in stored
    # The product's client reads the case as ever.
    case = (await api.get(f"/v1/cases/{case_id}")).json()
    assert case["person"]["bsn"] == bsn and case["person"]["surname"] == surname


async def test_the_codec_endpoint_decrypts_what_temporal_stores(api, dev_env):
    bsn = next_bsn()
    body = notice_body(person={"bsn": bsn, "given_names": "Jan", "surname": "Jansen", "birth_date": "1990-01-31"})
    case_id = (await api.post("/v1/notifications/detention-started", json=body, headers=PRISON)).json()["case_id"]
    raw = Client(dev_env.client.service_client, namespace=dev_env.client.namespace)
    first = (await raw.get_workflow_handle(case_id).fetch_history()).events[0]
    stored = first.workflow_execution_started_event_attributes.input
    assert bsn.encode() not in stored.SerializeToString()

    # What the Web UI sends: the payloads as it got them, in protobuf JSON.
    decoded = await api.post(
        "/codec/decode",
        content=json_format.MessageToJson(stored),
        headers={"content-type": "application/json", "x-namespace": raw.namespace, "origin": UI} | ADMIN,
    )
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == UI
    [payload] = decoded.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert bsn in base64.b64decode(payload["data"]).decode()


async def test_encode_and_decode_round_trip_over_http(api):
    plain = Payloads(payloads=[DataConverter.default.payload_converter.to_payload({"note": "gesproken met Jan"})])
    encoded = await api.post("/codec/encode", content=json_format.MessageToJson(plain), headers=ADMIN)
    assert encoded.status_code == 200, encoded.text
    [payload] = encoded.json()["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"Jan" not in base64.b64decode(payload["data"])

    decoded = await api.post("/codec/decode", content=encoded.content, headers=ADMIN)
    assert json_format.Parse(decoded.content, Payloads()) == plain
    # Never encrypted: passes through.
    unchanged = await api.post("/codec/decode", content=json_format.MessageToJson(plain), headers=ADMIN)
    assert json_format.Parse(unchanged.content, Payloads()) == plain


async def test_the_codec_endpoint_says_what_it_cannot_decrypt(api):
    other = EncryptionCodec(Keyring.parse(new_key_line("elsewhere-2026")))
    foreign = Payloads(payloads=await other.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"{}")]))
    refused = await api.post("/codec/decode", content=json_format.MessageToJson(foreign), headers=ADMIN)
    assert "key 'elsewhere-2026', which is not in the keyring" in is_problem(refused, 400)["detail"]
    is_problem(await api.post("/codec/decode", content=b"{not json", headers=ADMIN), 400)
    is_problem(await api.post("/codec/decode", content=b'{"payloads": 5}', headers=ADMIN), 400)


async def preflight(api: httpx.AsyncClient, path: str, origin: str) -> httpx.Response:
    return await api.options(
        path,
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type,x-namespace",
        },
    )


@pytest.mark.parametrize("origin", ["http://localhost:8233", "http://127.0.0.1:8233"])
async def test_the_web_ui_may_call_the_codec_endpoint_from_the_browser(api, origin):
    answered = await preflight(api, "/codec/decode", origin)
    assert answered.status_code == 200
    assert answered.headers["access-control-allow-origin"] == origin
    assert "POST" in answered.headers["access-control-allow-methods"]
    allowed = answered.headers["access-control-allow-headers"].lower()
    assert all(header in allowed for header in ("authorization", "content-type", "x-namespace"))


async def test_other_origins_and_other_paths_get_no_cors(api):
    elsewhere = await preflight(api, "/codec/decode", "https://evil.example")
    assert elsewhere.status_code == 400
    assert "access-control-allow-origin" not in elsewhere.headers
    posted = await api.post("/codec/encode", content=b"{}", headers={"origin": "https://evil.example"} | ADMIN)
    assert "access-control-allow-origin" not in posted.headers

    api_route = await preflight(api, "/v1/notifications/detention-started", UI)
    assert "access-control-allow-origin" not in api_route.headers


async def test_only_administrators_have_payloads_decrypted_and_each_time_is_audited(api):
    plain = Payloads(payloads=[DataConverter.default.payload_converter.to_payload({"note": "gesproken met Jan"})])
    encoded = (await api.post("/codec/encode", content=json_format.MessageToJson(plain), headers=ADMIN)).content
    caseworker = bearer("anna", "caseworker")
    is_problem(await api.post("/codec/decode", content=encoded, headers=caseworker), 403)
    is_problem(await api.post("/codec/decode", content=encoded, headers={"Authorization": ""}), 401)
    decoded = await api.post("/codec/decode", content=encoded, headers=ADMIN | {"x-namespace": "default"})
    assert decoded.status_code == 200

    auditor = bearer("ada", "auditor")
    entries = (await api.get("/v1/audit", params={"action": "codec.decode"}, headers=auditor)).json()["items"]
    seen = [(e["user_id"], e["outcome"], e["status"], e["target"]) for e in reversed(entries)]
    assert seen == [
        ("anna", "refused", 403, None),
        (None, "refused", 401, None),
        ("beheer", "allowed", 200, "namespace=default"),
    ]
