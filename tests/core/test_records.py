"""core.records.asdict: what dataclasses.asdict gives for dataclasses, and the same for Structs,
so a report renders the same JSON whichever its records are (docs/development.md)."""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from pathlib import Path

import msgspec
import pytest

from deploytag.core.records import asdict

Pair = namedtuple("Pair", "left right")


@dataclasses.dataclass(frozen=True)
class InnerRecord:
    name: str
    path: Path
    tags: tuple[str, ...]


@dataclasses.dataclass
class Report:
    inner: InnerRecord
    many: list[InnerRecord]
    by_name: dict[str, InnerRecord]
    pair: Pair


class InnerStruct(msgspec.Struct, frozen=True):
    name: str
    path: Path
    tags: tuple[str, ...]


@dataclasses.dataclass
class StructReport:
    inner: InnerStruct
    many: list[InnerStruct]
    by_name: dict[str, InnerStruct]
    pair: Pair


def test_a_dataclass_report_is_what_dataclasses_asdict_gives() -> None:
    one = InnerRecord("a", Path("/x"), ("t1", "t2"))
    report = Report(one, [one, one], {"a": one}, Pair(one, 1))
    assert asdict(report) == dataclasses.asdict(report)
    assert asdict(one) == dataclasses.asdict(one)


def test_structs_in_a_report_convert_as_dataclasses_did() -> None:
    one = InnerStruct("a", Path("/x"), ("t1", "t2"))
    same = InnerRecord("a", Path("/x"), ("t1", "t2"))
    data = asdict(StructReport(one, [one], {"a": one}, Pair(one, 1)))
    assert data == dataclasses.asdict(Report(same, [same], {"a": same}, Pair(same, 1)))
    assert list(data["inner"]) == ["name", "path", "tags"]  # field order is the JSON's key order
    assert isinstance(data["inner"]["tags"], tuple) and isinstance(data["inner"]["path"], Path)
    assert type(data["pair"]) is Pair
    assert asdict(one) == {"name": "a", "path": Path("/x"), "tags": ("t1", "t2")}


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError, match="Struct or dataclass"):
        asdict({"a": 1})
