"""Proof of delivery (issue 17): the courier may send a photo with the delivery; it is kept
and shown to the order's parties, and anything that is not a small image is refused in words."""

from __future__ import annotations

import base64
import struct
import zlib

from tests.service.conftest import order_body
from tests.service.flows import delivered, picked_up


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, tiny PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def data_url(content: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(content).decode()}"


def test_the_photo_is_kept_and_shown_to_the_parties_only(service):
    sender, courier = service.party("merchant"), service.party("courier")
    photo = png()
    order_id = delivered(service, sender, courier, order_body(), photo=data_url(photo))
    order = sender.get(f"/orders/{order_id}").json()
    assert order["status"] == "delivered" and order["proof_photo_at"] is not None
    for party in (sender, courier):
        shown = party.get(f"/orders/{order_id}/photo")
        assert shown.status_code == 200
        assert shown.headers["content-type"] == "image/png"
        assert shown.content == photo
    stranger = service.party("customer")
    assert stranger.get(f"/orders/{order_id}/photo").status_code == 404


def test_a_delivery_without_a_photo_has_none(service):
    sender, courier = service.party("merchant"), service.party("courier")
    order_id = delivered(service, sender, courier, order_body())
    assert sender.get(f"/orders/{order_id}").json()["proof_photo_at"] is None
    missing = sender.get(f"/orders/{order_id}/photo")
    assert missing.status_code == 404
    assert "no proof-of-delivery photo" in missing.json()["detail"]


def test_what_is_not_a_small_image_is_refused_and_the_order_stays_picked_up(service):
    sender, courier = service.party("merchant"), service.party("courier")
    order_id, code = picked_up(service, sender, courier, order_body())
    cases = {
        "data:text/plain;base64,aGVsbG8=": "photo",  # not an image type
        data_url(b"GIF89a" + b"\x00" * 20): "not a png image",  # bytes do not match
        data_url(b"\xff\xd8\xff" + b"\x00" * 700_000, "jpeg"): "at most",  # too large
    }
    for photo, words in cases.items():
        answer = courier.post(f"/orders/{order_id}/deliver", json={"code": code, "photo": photo})
        assert answer.status_code in (413, 422), answer.text
        if answer.status_code == 422:
            assert any(e["field"] == "photo" for e in answer.json()["errors"]), answer.text
            assert words in answer.text
    assert sender.get(f"/orders/{order_id}").json()["status"] == "picked_up"
    # The code was not spent on the refused attempts.
    done = courier.post(f"/orders/{order_id}/deliver", json={"code": code})
    assert done.status_code == 200, done.text
