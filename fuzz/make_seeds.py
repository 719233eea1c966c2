#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/ (a few small files per target).

Run from anywhere: `python3 fuzz/make_seeds.py`. The seeds are committed; rerun this only when a
target's input format changes. Each target's format is described at the top of its source.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct

FUZZ = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(FUZZ, "..", "src", "testing", "samples")
CORPUS = os.path.join(FUZZ, "corpus")
KEY = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
NOW = 1_700_000_000


def sign(msg_id: bytes, timestamp: bytes, body: bytes) -> bytes:
    tag = hmac.new(KEY, msg_id + b"." + timestamp + b"." + body, hashlib.sha256).digest()
    return b"v1," + base64.b64encode(tag)


def fixture(name: str, compact: bool = False) -> bytes:
    with open(os.path.join(FIXTURES, name + ".json"), "rb") as file:
        raw = file.read()
    if compact:
        return json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    return raw


def write(target: str, name: str, data: bytes) -> None:
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as file:
        file.write(data)


SMALL = b'{"type":"user.deleted","data":{"id":"user_1","deleted":true}}'
UNSUPPORTED = b'{"type":"user.created","data":{"id":"user_1","banned":"yes"}}'
UNKNOWN = b'{"type":"agent.created","data":{"id":"ag_1","nested":[1,2.5,null,{"a":"\\u00e9"}]}}'
ALIAS = b'{"type":"subscription.past_due","data":{"id":"csub_1"},"timestamp":1716883200000}'


def signature_header() -> None:
    body = b'{"type":"user.created","data":{"id":"user_1"}}'
    genuine = sign(b"msg_fuzz", str(NOW).encode(), body)
    other = b"v1," + base64.b64encode(bytes(32))
    # The failing input of issue 23: 17 entries, 53 bytes (refused as invalid_header).
    write("signature_header", "issue-23-seventeen-entries", base64.b64decode(
        "ISA0IGoJCSAsaiBgCQkgLGogYCshIGogCSBqOQlqKyEgaiAJIDQgagkJICxqIGAJIGo5CWo="))
    write("signature_header", "genuine", genuine)
    write("signature_header", "rotation", b"v1,AAAA v2,xyz " + other + b" " + genuine)
    write("signature_header", "sixteen-with-tabs", b"\t".join([other] * 15 + [genuine]) + b"  ")
    write("signature_header", "seventeen", b" ".join([other] * 16 + [genuine]))
    filler = b"x" * (4096 - len(genuine) - 1)
    write("signature_header", "at-4096-bytes", genuine + b" " + filler)
    write("signature_header", "at-4097-bytes", genuine + b" " + filler + b"x")
    write("signature_header", "not-ascii", genuine + b" v1,\xc3\xa9")


def verify() -> None:
    def delivery(msg_id: bytes, timestamp: bytes, signatures: bytes, body: bytes) -> bytes:
        return b"\xff".join([msg_id, timestamp, signatures, body])

    write("verify", "genuine", delivery(b"msg_1", b"1700000000", b"GENUINE", SMALL))
    write("verify", "leading-zeros", delivery(b"msg_1", b"01700000100", b"v1,x GENUINE", SMALL))
    write("verify", "window-edge", delivery(b"msg_2", b"1699999700", b"GENUINE\tv2,y", b"{}"))
    write("verify", "outside-window", delivery(b"msg_2", b"1700000301", b"GENUINE", b""))
    write("verify", "bad-timestamp", delivery(b"msg_3", b"+1700000000", b"GENUINE", SMALL))
    write("verify", "long-id", delivery(b"m" * 257, b"1700000000", b"GENUINE", SMALL))
    write("verify", "missing-id", delivery(b"\x01", b"1700000000", b"GENUINE", SMALL))
    write("verify", "seventeen", delivery(b"msg_4", b"1700000000", b" ".join([b"GENUINE"] * 17), SMALL))


def envelope() -> None:
    for name in ["user.deleted", "organization.created", "role.deleted", "session.created",
                 "subscriptionItem.pastDue", "invitation.accepted"]:
        write("envelope", name, fixture(name))
    write("envelope", "user.created.compact", fixture("user.created", compact=True))
    write("envelope", "unknown-type", UNKNOWN)
    write("envelope", "past-due-alias", ALIAS)
    write("envelope", "unsupported", UNSUPPORTED)
    # Accepted by parse_event until the UTF-8 check of the whole body; refused now.
    write("envelope", "non-utf8-in-unknown-field", SMALL[:-1] + b',"x":"\xff"}')


def parse_paths() -> None:
    # Input: one byte of flags (bit 0: lenient), then the body.
    def seed(name: str, body: bytes, lenient: bool = False) -> None:
        write("parse_paths", name, bytes([1 if lenient else 0]) + body)

    for name in ["user.created", "email.created", "organizationInvitation.created",
                 "role.deleted", "permission.deleted", "subscriptionItem.pastDue",
                 "paymentAttempt.created"]:
        seed(name, fixture(name))
        # Keys sorted: data first, type last, as Clerk sends them.
        seed(name + ".sorted", json.dumps(json.loads(fixture(name)), sort_keys=True,
                                          separators=(",", ":"), ensure_ascii=False).encode())
    seed("unknown-type", UNKNOWN)
    seed("past-due-alias", ALIAS)
    seed("unsupported", UNSUPPORTED)
    seed("unsupported-lenient", UNSUPPORTED, lenient=True)
    seed("escaped-type", b'{"type":"user.del\\u0065ted","data":{"id":"user_1","deleted":true}}')
    seed("wrong-guess", b'{"type":"user.deleted","data":{"id":"u"},"type":"role.deleted"}')
    seed("duplicate-data", b'{"type":"user.deleted","data":{"id":"u"},"data":{"id":"v"}}')
    seed("nested-type-first", b'{"x":{"type":"user.created"},"type":"user.deleted","data":{"id":"u"}}')
    seed("trailing", SMALL + b" x")
    seed("non-utf8-in-unknown-field", SMALL[:-1] + b',"x":"\xff"}')
    # role.deleted and permission.deleted: MaybeDeleted, read in one pass by deleted_form.rs.
    seed("deleted-short", b'{"type":"role.deleted","data":{"id":"r","deleted":true,"slug":"s"}}')
    seed("deleted-full", b'{"data":{"id":"p","key":"org:k","type":"custom"},"type":"permission.deleted"}')
    seed("deleted-null", b'{"type":"role.deleted","data":{"id":"r","deleted":null}}')
    seed("deleted-escaped-key", b'{"type":"role.deleted","data":{"id":"r","delet\\u0065d":true}}')
    seed("deleted-duplicate", b'{"type":"role.deleted","data":{"id":"r","deleted":true,"deleted":false}}')
    seed("deleted-nested", b'{"type":"role.deleted","data":{"id":"r","permissions":[{"id":"p","deleted":true}]}}')
    seed("deleted-outside-data", b'{"type":"permission.deleted","data":{"id":"p"},"note":"deleted"}')


def json_reader() -> None:
    # Input: any text, read into a Value by the one-pass reading's reader and by serde_json.
    for name in ["email.created", "user.created", "subscriptionItem.pastDue"]:
        write("json_reader", name, fixture(name))
        write("json_reader", name + ".compact", fixture(name, compact=True))
    write("json_reader", "escapes-across-blocks",
          json.dumps({"k": "".join("a" * n + '"\n\u00e9\U0001F600' for n in range(40))}).encode())
    write("json_reader", "escape-at-end", b'"' + b"x" * 20 + b'\\n"')
    write("json_reader", "numbers", b'[0,-1,18446744073709551615,18446744073709551616,-0,1.5e3,1E-7,'
                                    b'123456789012345678,-123456789012345678,0.1,2.2250738585072014e-308]')
    write("json_reader", "bad-numbers", b'[01,-,1.,.5,1e,+1,--1]')
    write("json_reader", "lone-surrogate", b'["\\ud800","\\udc00","\\ud800\\u0041"]')
    write("json_reader", "control-in-string", b'["a\tb"]')
    write("json_reader", "literals", b'{"t":true,"f":false,"n":null,"x":[[],{}]}')
    write("json_reader", "trailing-comma", b'{"a":[1,2,],"b":{"c":1,}}')
    write("json_reader", "deep", b"[" * 130 + b"]" * 130)


def layer_body() -> None:
    def request(body: bytes, flags: int = 0, frames=(), cl_mode: int = 0, cl_value: int = 0,
                outer_limit: int = 0, error_at: int = 0, last: bool = True) -> bytes:
        head = struct.pack("<BBIHBB", flags, cl_mode, cl_value, outer_limit, error_at, len(frames))
        head += bytes(frames)
        if not last:
            head += struct.pack("<H", len(body))
        return head + body

    def scenario(limit: int, budget: int, flags: int, schedule: int, *requests: bytes) -> bytes:
        return struct.pack("<HHBBB", limit, budget, flags, schedule, len(requests) - 1) + b"".join(requests)

    user = fixture("user.deleted")
    # One genuine delivery, honest Content-Length, in three frames: 200.
    write("layer_body", "genuine-in-frames", scenario(
        2048, 0, 0, 1, request(user, flags=0x01, frames=[100, 0, 200])))
    # Exact size hint, Pending before each frame, trailers, slow inner service, leak probe.
    write("layer_body", "pending-trailers-probe", scenario(
        1024, 3000, 0x06, 7, request(SMALL, flags=0x02 | 0x10 | 0x80, frames=[10, 10])))
    # A body one byte over the limit without Content-Length: 413 from the frames.
    write("layer_body", "one-over-limit", scenario(
        len(SMALL) - 1, 0, 0, 1, request(SMALL, frames=[20])))
    # A Content-Length lying upwards past the limit: 413 before the body; lying downwards: 200.
    write("layer_body", "length-lies-up", scenario(
        512, 0, 0, 1, request(SMALL, flags=0x01, cl_mode=1, cl_value=513)))
    write("layer_body", "length-lies-down", scenario(
        512, 0, 0, 1, request(SMALL, flags=0x01, cl_mode=1, cl_value=3, frames=[5])))
    # The stream fails after two frames: body_error.
    write("layer_body", "body-error", scenario(
        2048, 0, 0, 1, request(user, flags=0x04, frames=[50, 50, 50], error_at=2)))
    # An outer Limited shorter than the body: 413 that names no limit.
    write("layer_body", "outer-limit", scenario(
        2048, 0, 0, 1, request(user, flags=0x20 | 0x02, outer_limit=300, frames=[200, 200])))
    # Unsupported data, passed on as Unparsed; and a forged signature next to it.
    write("layer_body", "unparsed-and-forged", scenario(
        256, 0, 0x01, 3,
        request(UNSUPPORTED, flags=0x01, frames=[30], last=False),
        request(SMALL, flags=0x08 | 0x80, frames=[7, 7])))
    # Three requests sharing a budget no larger than the limit, interleaved frame by frame.
    write("layer_body", "three-share-a-budget", scenario(
        600, 600, 0x04, 11,
        request(user, flags=0x80, frames=[64] * 8, last=False),
        request(user, flags=0x80 | 0x01, frames=[128] * 4, last=False),
        request(SMALL, flags=0x80, frames=[16] * 4)))
    write("layer_body", "stale-and-loose-length", scenario(
        2048, 0, 0, 5,
        request(SMALL, flags=0x40, last=False),
        request(SMALL, flags=0x01, cl_mode=2, cl_value=1)))


def queued_delivery() -> None:
    def job(timestamp: int, msg_id: bytes, body: bytes, endpoint: bytes) -> bytes:
        return b"\x00" + struct.pack("<q", timestamp) + b"\xff".join([msg_id, body, endpoint])

    write("queued_delivery", "fixture", job(NOW, b"msg_1", fixture("user.deleted"), b"myapp-production"))
    write("queued_delivery", "escapes", job(-1, "msg_é\u2028".encode(), b'{"a":"\\"\x7f\t\n"}', b""))
    write("queued_delivery", "json-job", b"\x01" + json.dumps(
        {"id": "msg_\ud83d\ude00", "timestamp": 9223372036854775807,
         "body": "{\"type\":\"user.deleted\"}\u0000", "endpoint": "e"}).encode())
    write("queued_delivery", "json-old-job", b"\x01" + b'{"id":"msg_1","timestamp":0,"body":"{}"}')


if __name__ == "__main__":
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    signature_header()
    verify()
    envelope()
    parse_paths()
    json_reader()
    layer_body()
    queued_delivery()
