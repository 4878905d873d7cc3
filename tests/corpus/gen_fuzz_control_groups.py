#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed messages of the consumer-group requests for tests/fuzz_control.c.

Writes tests/corpus/fuzz_control/group-* in the control protocol's format
(libsfshm/proto.h): a 16-byte header (u32 len, u16 type, u8 version,
u8 flags, u32 seq, s32 status; host byte order, little-endian here), then
attributes (u16 len = 4 + value, u16 type, value, padded to 4 bytes;
nested attributes hold attributes).  The type numbers are read from
proto.h, so the seeds follow the enums.  Run from anywhere:

    python3 tests/corpus/gen_fuzz_control_groups.py
"""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "libsfshm", "proto.h")
OUT = os.path.join(HERE, "fuzz_control")


def enums(text, first):
    """The names of the enum that starts with @first, numbered."""
    body = text[text.index(first):]
    body = body[:body.index("};")]
    names, value = {}, -1
    for line in body.splitlines():
        m = re.match(r"\s*(SF[PA]_\w+)(?:\s*=\s*(\d+))?,", line)
        if not m:
            continue
        value = int(m.group(2)) if m.group(2) else value + 1
        names[m.group(1)] = value
    return names


with open(PROTO) as f:
    TEXT = f.read()
T = enums(TEXT, "SFP_HELLO = 1")
A = enums(TEXT, "SFA_UNSPEC,")


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def attr(name, value):
    return pad(struct.pack("<HH", 4 + len(value), A[name]) + value)


def s(name, text):
    return attr(name, text.encode() + b"\0")


def u32(name, v):
    return attr(name, struct.pack("<I", v))


def s32(name, v):
    return attr(name, struct.pack("<i", v))


def s64(name, v):
    return attr(name, struct.pack("<q", v))


def nest(name, *children):
    return attr(name, b"".join(children))


def msg(type_name, *attrs, seq=7):
    body = b"".join(attrs)
    return struct.pack("<IHBBIi", 16 + len(body), T[type_name], 1, 0, seq,
                       0) + body


def tp(topic, partition, offset=None, meta=None):
    kids = [s("SFA_TOPIC", topic), u32("SFA_PARTITION", partition)]
    if offset is not None:
        kids.append(s64("SFA_OFFSET", offset))
    if meta is not None:
        kids.append(s("SFA_METADATA", meta))
    return nest("SFA_TP", *kids)


SEEDS = {
    "group-join": msg("SFP_GROUP_JOIN", s("SFA_GROUP", "g1"),
                      s("SFA_INSTANCE_ID", "i1"),
                      s("SFA_ASSIGNOR", "sticky"),
                      s64("SFA_MAX_POLL_MS", 500),
                      s64("SFA_SESSION_MS", 3000),
                      s("SFA_SUBSCRIBE", "orders"),
                      s("SFA_SUBSCRIBE", "^ord.*")),
    "group-join-bad": msg("SFP_GROUP_JOIN", s("SFA_GROUP", "g/1"),
                          s("SFA_ASSIGNOR", "cooperative-sticky"),
                          s64("SFA_MAX_POLL_MS", 0),
                          s("SFA_SUBSCRIBE", "^(")),
    "group-revoked": msg("SFP_GROUP_REVOKED", s("SFA_GROUP", "g1"),
                         s32("SFA_GENERATION", 2)),
    "group-heartbeat": msg("SFP_GROUP_HEARTBEAT", s("SFA_GROUP", "g1")),
    "group-leave": msg("SFP_GROUP_LEAVE", s("SFA_GROUP", "g1")),
    "offset-commit": msg("SFP_OFFSET_COMMIT", s("SFA_GROUP", "g1"),
                         s32("SFA_GENERATION", -1),
                         tp("orders", 0, 5, "meta"), tp("orders", 1, 7)),
    "offset-commit-bad": msg("SFP_OFFSET_COMMIT", s("SFA_GROUP", "g1"),
                             s32("SFA_GENERATION", 3), tp("orders", 0),
                             tp("orders", 9, 1), tp("nope", 0, 1),
                             tp("orders", 1, -5)),
    "offset-fetch": msg("SFP_OFFSET_FETCH", s("SFA_GROUP", "g1"),
                        tp("orders", 0), tp("orders", 1), tp("nope", 3)),
    "group-list": msg("SFP_GROUP_LIST"),
    "group-describe": msg("SFP_GROUP_DESCRIBE", s("SFA_GROUP", "g1")),
    "group-delete": msg("SFP_GROUP_DELETE", s("SFA_GROUP", "g1")),
    "group-reset": msg("SFP_GROUP_RESET", s("SFA_GROUP", "g1"),
                       tp("orders", 0, 0), tp("orders", 1, 3, "m")),
}

for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print("%-18s %3d bytes" % (name, len(data)))
