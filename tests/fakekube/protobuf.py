"""Decode the Kubernetes protobuf wire format for the few kinds clients send that way.

Helm (3 and 4) talks to the Secret (and ConfigMap) release storage and creates
namespaces through client-go's typed clients with
``Content-Type: application/vnd.kubernetes.protobuf``. The fake answers in JSON
(the clients accept it) but has to read those request bodies: the ``k8s\\x00``
envelope (``runtime.Unknown``) around a Secret, ConfigMap, Namespace or
DeleteOptions, with the field numbers of ``k8s.io/api/core/v1/generated.proto``.
Any other kind sent as protobuf gets a 415 naming it.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from .errors import ApiError

MAGIC = b"k8s\x00"

# A schema maps a field number to (json name, type). Types: "string", "bytes", "int", "bool",
# "time", ("msg", schema), ("map", value type), ("list", item type).
Schema = dict[int, tuple[str, Any]]

TIME: Schema = {1: ("seconds", "int"), 2: ("nanos", "int")}
OWNER_REFERENCE: Schema = {
    1: ("kind", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("controller", "bool"),
    7: ("blockOwnerDeletion", "bool"),
}
OBJECT_META: Schema = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    4: ("selfLink", "string"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    9: ("deletionTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "int"),
    11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("list", ("msg", OWNER_REFERENCE))),
    14: ("finalizers", ("list", "string")),
}
SECRET: Schema = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: ("data", ("map", "bytes")),
    3: ("type", "string"),
    4: ("stringData", ("map", "string")),
    5: ("immutable", "bool"),
}
CONFIG_MAP: Schema = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: ("data", ("map", "string")),
    3: ("binaryData", ("map", "bytes")),
    4: ("immutable", "bool"),
}
NAMESPACE: Schema = {
    1: ("metadata", ("msg", OBJECT_META)),
    2: ("spec", ("msg", {1: ("finalizers", ("list", "string"))})),
    3: ("status", ("msg", {1: ("phase", "string")})),
}
DELETE_OPTIONS: Schema = {
    1: ("gracePeriodSeconds", "int"),
    2: ("preconditions", ("msg", {1: ("uid", "string"), 2: ("resourceVersion", "string")})),
    3: ("orphanDependents", "bool"),
    4: ("propagationPolicy", "string"),
    5: ("dryRun", ("list", "string")),
}
KINDS: dict[str, Schema] = {
    "Secret": SECRET,
    "ConfigMap": CONFIG_MAP,
    "Namespace": NAMESPACE,
    "DeleteOptions": DELETE_OPTIONS,
}
UNKNOWN: Schema = {
    1: ("typeMeta", ("msg", {1: ("apiVersion", "string"), 2: ("kind", "string")})),
    2: ("raw", "bytes"),
    3: ("contentEncoding", "string"),
    4: ("contentType", "string"),
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) for each field; length-delimited values stay bytes."""
    out = []
    pos = 0
    while pos < len(data):
        value: Any
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _scalar(kind: Any, value: Any) -> Any:
    if kind == "string":
        return bytes(value).decode()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == "time":
        parsed = decode_message(bytes(value), TIME)
        seconds = parsed.get("seconds", 0)
        if not seconds:
            return None
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(kind, tuple) and kind[0] == "msg":
        return decode_message(bytes(value), kind[1])
    raise ValueError(f"unknown schema type {kind!r}")


def decode_message(data: bytes, schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _, value in _fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _, v in _fields(bytes(value))}
            key = bytes(entry.get(1, b"")).decode()
            out.setdefault(name, {})[key] = _scalar(kind[1], entry.get(2, b""))
        elif isinstance(kind, tuple) and kind[0] == "list":
            item = kind[1]
            if item == "string" or (isinstance(item, tuple) and item[0] == "msg"):
                out.setdefault(name, []).append(_scalar(item, value))
            else:
                raise ValueError("packed repeated scalars are not needed here")
        else:
            decoded = _scalar(kind, value)
            if decoded is not None:
                out[name] = decoded
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf request body (with its ``k8s\\x00`` envelope) as the JSON object it stands for."""
    if not body.startswith(MAGIC):
        raise ApiError.bad_request("protobuf body without the k8s envelope")
    envelope = decode_message(body[len(MAGIC) :], UNKNOWN)
    type_meta = envelope.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"fakekube reads protobuf only for {', '.join(sorted(KINDS))}, not {kind or 'this body'}: "
            "send JSON (the client's ContentType)",
        )
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = decode_message(raw, schema)
    if type_meta.get("apiVersion"):
        obj = {"apiVersion": type_meta["apiVersion"], "kind": kind, **obj}
    else:
        obj = {"kind": kind, **obj}
    return obj
