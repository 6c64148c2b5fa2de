"""Proof-of-delivery photos: sent as a data URL with the delivery, checked, kept as bytes.

The pages shrink the photo on the phone before sending (about 100-300 kB); the service
refuses anything that is not a JPEG, PNG or WebP image or is larger than ``MAX_BYTES``.
"""

from __future__ import annotations

import base64
import binascii

from crowdship.service.errors import Invalid

MAX_BYTES = 600_000
# What each allowed type's file starts with: the declared type must match the bytes.
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
PREFIX = "data:"
DATA_URL_PATTERN = r"^data:image/(jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$"


def decode(data_url: str) -> tuple[str, bytes]:
    """The content type and bytes of a ``data:image/...;base64,...`` photo."""
    head, _, payload = data_url.partition(",")
    content_type = head.removeprefix(PREFIX).removesuffix(";base64")
    if content_type not in MAGIC or not head.endswith(";base64"):
        raise Invalid("photo", "must be a JPEG, PNG or WebP image as a base64 data URL")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Invalid("photo", "is not valid base64") from error
    if len(data) > MAX_BYTES:
        raise Invalid("photo", f"is {len(data)} bytes; at most {MAX_BYTES} (shrink it first)")
    if not data.startswith(MAGIC[content_type]) or (
        content_type == "image/webp" and data[8:12] != b"WEBP"
    ):
        raise Invalid("photo", f"is not a {content_type.removeprefix('image/')} image")
    return content_type, data
