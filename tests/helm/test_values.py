"""Values layering with provenance (core.values), checked against what the real helm
(Helm 3 and 4) hands a chart as .Values."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from helmtesting import values_seen_by_chart
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploytag.adapters.common.process import SubprocessRunner
from deploytag.adapters.helm.binary import HelmBinary
from deploytag.capabilities.render import render_chart
from deploytag.core.errors import ConfigError
from deploytag.core.values import (
    MASK,
    ValuesLayer,
    build_layers,
    chart_layers,
    deep_merge,
    explain,
    file_layer,
    format_path,
    helm_inputs,
    injected_layer,
    mask_secrets,
    parse_set,
    parse_set_key,
    set_layer,
    typed_set_value,
)

# --------------------------------------------------------------------------- pure


def kinds(origin_refs: Any) -> list[str]:
    return [ref.kind for ref in origin_refs]


def test_each_leaf_says_which_layer_set_it(charts: Path, tmp_path: Path) -> None:
    env = tmp_path / "values-preview.yaml"
    env.write_text("image:\n  tag: from-file\n  pullPolicy: Always\nlib:\n  size: 5\n")
    layers = build_layers(
        chart=charts / "app",
        values_files=[env],
        injected={"image": {"tag": "abc123"}},
        set_values={"replicaCount": "3"},
    )
    explained = explain(layers)
    o = explained.origins
    assert explained.merged["image"] == {
        "repository": "registry.example.com/app",
        "tag": "abc123",
        "pullPolicy": "Always",
    }
    assert o["image.tag"].layer.kind == "injected"
    assert kinds(o["image.tag"].overridden) == ["chart", "file"]
    assert o["image.pullPolicy"].layer.source == str(env)
    assert o["image.repository"].layer.kind == "chart"
    assert o["image.repository"].overridden == ()
    assert explained.merged["replicaCount"] == 3
    assert o["replicaCount"].layer.kind == "set"
    # A parent's value beats its subchart's default; the subchart's own defaults fill the rest.
    assert o["lib.greeting"].layer.kind == "chart"
    assert [r.name for r in o["lib.greeting"].overridden] == ["subchart lib"]
    assert o["lib.size"].layer.kind == "file"
    assert kinds(o["lib.size"].overridden) == ["subchart"]
    # The parent's globals are copied into the subchart's, the parent winning.
    assert explained.merged["lib"]["global"] == {"team": "platform", "region": "eu"}
    assert o["lib.global.team"].layer.kind == "chart"
    assert kinds(o["lib.global.team"].overridden) == ["subchart"]
    assert o["lib.global.region"].layer.kind == "subchart"


def test_null_deletes_a_default_and_says_who() -> None:
    chart = ValuesLayer(
        name="chart", kind="chart", source="values.yaml", data={"a": {"x": 1, "y": 2}, "keep": 1}
    )
    env = ValuesLayer(name="env.yaml", kind="file", source="env.yaml", data={"a": {"x": None, "new": None}})
    explained = explain([chart, env])
    # The chart's key goes; a null for a key no lower layer has stays null, as helm does.
    assert explained.merged == {"a": {"y": 2, "new": None}, "keep": 1}
    assert explained.removed["a.x"].layer.name == "env.yaml"
    assert [r.name for r in explained.removed["a.x"].overridden] == ["chart"]
    assert explained.origins["a.new"].layer.name == "env.yaml"


def test_lists_and_scalars_replace_maps_merge() -> None:
    chart = ValuesLayer(
        name="chart", kind="chart", source="c", data={"l": [1, 2, 3], "m": {"a": 1}, "s": {"x": 1}}
    )
    env = file_like({"l": [9], "m": {"b": 2}, "s": "scalar"})
    merged = explain([chart, env]).merged
    assert merged == {"l": [9], "m": {"a": 1, "b": 2}, "s": "scalar"}


def file_like(data: dict[str, Any], name: str = "env.yaml") -> ValuesLayer:
    return ValuesLayer(name=name, kind="file", source=name, data=data)


def test_user_layers_merge_in_order_before_the_chart() -> None:
    """A null among user layers is only a value until it meets the chart's defaults."""
    chart = ValuesLayer(name="chart", kind="chart", source="c", data={"a": 1})
    first, second = file_like({"b": 1, "a": None}, "one"), file_like({"b": None}, "two")
    assert explain([chart, first, second]).merged == {"b": None}
    assert explain([chart, first, set_layer({"a": "5"})]).merged == {"a": 5, "b": 1}


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-3", -3),
        ("+7", 7),
        ("012", "012"),
        ("1.5", "1.5"),
        ("1e3", "1e3"),
        ("0x10", "0x10"),
        ("abc", "abc"),
        ("", ""),
        ("{a,b}", ["a", "b"]),
        ("{1,true}", [1, True]),
        ("99999999999999999999", "99999999999999999999"),
    ],
)
def test_set_values_are_typed_like_helm(raw: str, typed: Any) -> None:
    assert typed_set_value(raw) == typed


def test_set_keys() -> None:
    assert parse_set({"a.b[1].c": "x", "d[0][1]": "1", r"e\.f.g": "true"}) == {
        "a": {"b": [None, {"c": "x"}]},
        "d": [[None, 1]],
        "e.f": {"g": True},
    }
    assert parse_set_key(r"podAnnotations.prometheus\.io/scrape") == [
        "podAnnotations",
        "prometheus.io/scrape",
    ]
    assert format_path(["podAnnotations", "prometheus.io/scrape"]) == r"podAnnotations.prometheus\.io/scrape"
    for bad in ["", "a..b", "[0]", "a[x]", "a[0]b", "a[70000]", "a."]:
        with pytest.raises(ConfigError):
            parse_set_key(bad)


def test_helm_inputs_keep_files_as_files(tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text("a: 1\n")
    layers = [
        ValuesLayer(name="chart", kind="chart", source="c", data={"z": 1}),
        file_layer(env),
        injected_layer({"image": {"tag": "t"}, "b": {"c": 1}}),
        set_layer({"b.c": "null"}),
    ]
    files, values = helm_inputs(layers)
    assert files == [env]
    assert values == {"image": {"tag": "t"}, "b": {"c": None}}
    with pytest.raises(ValueError, match="must come before"):
        helm_inputs([layers[2], layers[1]])
    assert deep_merge({"a": {"b": 1}, "l": [1]}, {"a": {"c": None}, "l": [2]}) == {
        "a": {"b": 1, "c": None},
        "l": [2],
    }


def test_yaml_is_read_as_go_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("y: 1\nwhen: 2024-01-02\n1: one\nflag: n\nswitch: off\n")
    assert file_layer(path).data == {
        "true": 1,
        "when": "2024-01-02",
        "1": "one",
        "flag": False,
        "switch": False,
    }


def test_bad_values_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1,\n")
    with pytest.raises(ConfigError) as info:
        file_layer(path)
    assert "broken.yaml" in info.value.message
    with pytest.raises(ConfigError):
        file_layer(tmp_path / "missing.yaml")


def test_masking_hides_secret_looking_leaves() -> None:
    chart = ValuesLayer(
        name="chart",
        kind="chart",
        source="c",
        data={
            "db": {"password": "hunter2", "host": "db"},
            "auth": {"token": "abc", "enabled": True},
            "apiKey": "k-123",
            "envSecretName": "app-secrets",
            "secret": {"data": {"x": "1"}},
            "emptyPassword": "",
        },
    )
    masked = mask_secrets(explain([chart]), paths=["db.host"])
    m = masked.merged
    assert m["db"] == {"password": MASK, "host": MASK}
    assert m["auth"] == {"token": MASK, "enabled": True}
    assert m["apiKey"] == MASK
    assert m["secret"]["data"]["x"] == MASK
    assert m["envSecretName"] == "app-secrets"  # a name, not a secret
    assert m["emptyPassword"] == ""  # shows that it is unset
    assert masked.origins["db.password"].masked
    assert not masked.origins["envSecretName"].masked


def test_subcharts_are_read_from_archives(helm_bin: Path, charts: Path) -> None:
    HelmBinary(runner=SubprocessRunner(), binary=str(helm_bin)).dependency_build(chart=charts / "app")
    layers = chart_layers(charts / "app")
    sub = [layer for layer in layers if layer.kind == "subchart"]
    assert [(layer.scope, layer.condition) for layer in sub] == [(("lib",), "lib.enabled")]
    assert sub[0].source.endswith("charts/lib-0.1.0.tgz!values.yaml")
    assert sub[0].data == {
        "lib": {"greeting": "hello", "size": 3, "global": {"team": "lib-default", "region": "eu"}}
    }


# --------------------------------------------------------------------------- against helm


def helm_values(helm_bin: Path, chart: Path, layers: list[ValuesLayer], out: Path) -> dict[str, Any]:
    """What helm gave the chart as .Values, rendered the way DeployTag renders."""
    helm = HelmBinary(runner=SubprocessRunner(), binary=str(helm_bin))
    rendered = render_chart(
        helm=helm, chart=chart, release="r", namespace="ns", layers=layers, output_dir=out
    )
    return values_seen_by_chart(rendered)


SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]] = {
    # name: (parent values.yaml, subchart values.yaml, user values files)
    "nulls meet defaults": (
        {"a": {"x": 1, "deep": {"k": "v"}}, "nn": None, "s": "str", "l": [1, 2]},
        {},
        [{"a": {"x": None, "deep": None, "new": None}, "zz": None, "l": [3]}, {"nn": None}],
    ),
    "parent sets subchart values": (
        {"sub": {"pk": "parent", "pnull": None, "dk": "parent", "m": {"a": None, "zz": None}}},
        {"dk": "sub", "pnull": "sub", "m": {"a": 1, "b": 2}, "keep": True},
        [{"sub": {"keep": None, "newnull": None}}],
    ),
    "user nulls under a subchart key": (
        {"sub": {"pk": "parent", "dk": "parent", "pm": {"a": 1, "b": 2}}},
        {"dk": "sub"},
        [{"sub": {"pk": None, "dk": None, "pm": {"a": None}}}],
    ),
    "globals": (
        {"global": {"g1": "parent", "gm": {"x": 1}}},
        {"global": {"g1": "sub", "g2": "subonly", "gm": {"z": 2}}},
        [{"sub": {"global": {"g1": "user-sub", "g3": "user"}}}],
    ),
    "subchart switched off": (
        {"sub": {"enabled": False}},
        {"big": {"x": 1}},
        [],
    ),
    "YAML 1.1 as Go reads it": (
        {"when": "2024-01-02"},
        {},
        [{"y": 1, "flag": "n", "1": "one"}],
    ),
}


def make_chart(
    root: Path, parent: dict[str, Any], sub: dict[str, Any], *, archive: bool, condition: bool
) -> Path:
    """A chart whose one template prints .Values, with a vendored subchart `sub`."""
    chart = root / "parent"
    (chart / "templates").mkdir(parents=True)
    meta: dict[str, Any] = {"apiVersion": "v2", "name": "parent", "version": "0.1.0"}
    if condition:
        meta["dependencies"] = [{"name": "sub", "version": "0.1.0", "condition": "sub.enabled"}]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    (chart / "values.yaml").write_text(yaml.safe_dump(parent))
    shutil.copy(Path(__file__).parent / "charts/app/templates/values.yaml", chart / "templates/values.yaml")
    files = {
        "sub/Chart.yaml": yaml.safe_dump({"apiVersion": "v2", "name": "sub", "version": "0.1.0"}),
        "sub/values.yaml": yaml.safe_dump(sub),
    }
    (chart / "charts").mkdir()
    if archive:
        with tarfile.open(chart / "charts/sub-0.1.0.tgz", "w:gz") as tar:
            for name, text in files.items():
                body = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    else:
        for name, text in files.items():
            (chart / "charts" / name).parent.mkdir(parents=True, exist_ok=True)
            (chart / "charts" / name).write_text(text)
    return chart


def layers_for(
    chart: Path, user: list[dict[str, Any]], sets: dict[str, str] | None = None
) -> list[ValuesLayer]:
    files = []
    for i, data in enumerate(user):
        path = chart.parent / f"user-{i}.yaml"
        path.write_text(yaml.safe_dump(data))
        files.append(path)
    return build_layers(chart=chart, values_files=files, set_values=sets)


@pytest.mark.helm
@pytest.mark.parametrize("archive", [False, True], ids=["dir", "tgz"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_merge_matches_helm(helm_bin: Path, tmp_path: Path, name: str, archive: bool) -> None:
    parent, sub, user = SCENARIOS[name]
    chart = make_chart(tmp_path, parent, sub, archive=archive, condition=True)
    layers = layers_for(chart, user)
    assert explain(layers).merged == helm_values(helm_bin, chart, layers, tmp_path / "out")


@pytest.mark.helm
def test_known_difference_between_helm_3_and_4(helm_bin: Path, tmp_path: Path) -> None:
    """A user null over a nested chart default that is itself null: Helm 3 deletes the key,
    Helm 4 keeps it as null. DeployTag follows Helm 3; both render the same manifests
    wherever a template treats a missing key and null alike."""
    chart = make_chart(tmp_path, {"m": {"inner": None, "keep": 1}}, {}, archive=False, condition=False)
    layers = layers_for(chart, [{"m": {"inner": None}}])
    seen = helm_values(helm_bin, chart, layers, tmp_path / "out")
    assert explain(layers).merged["m"] == {"keep": 1}
    assert seen["m"] == ({"keep": 1} if helm_bin.parent.name == "helm3" else {"inner": None, "keep": 1})


@pytest.mark.helm
def test_set_typing_matches_native_helm_set(helm_bin: Path, tmp_path: Path) -> None:
    raws = [
        "true",
        "False",
        "null",
        "0",
        "42",
        "-3",
        "+7",
        "012",
        "1.5",
        "1e3",
        "0x10",
        "abc",
        "{a,b}",
        "{1,true}",
    ]
    chart = make_chart(tmp_path, {}, {}, archive=False, condition=False)
    argv = [str(helm_bin), "template", "r", str(chart)]
    for i, raw in enumerate(raws):
        argv += ["--set", f"k{i}={raw}"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    seen = yaml.safe_load(docs[0]["data"]["values.yaml"])
    seen.pop("sub")
    assert seen == {f"k{i}": typed_set_value(raw) for i, raw in enumerate(raws)}


# A differential property test: random layer stacks, merged by DeployTag and by helm.

_KEYS = st.sampled_from(["a", "b", "c"])
_SCALARS = st.one_of(st.integers(-3, 3), st.sampled_from(["s1", "s2", "on-air"]), st.booleans())
_LEAVES = st.one_of(_SCALARS, st.lists(st.integers(0, 3), max_size=2))


def _trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    nested = st.recursive(leaves, lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=5)
    return st.dictionaries(_KEYS, nested, max_size=3)


# Chart defaults carry no nulls: Helm 3 and 4 disagree on a null meeting a null (see above).
_CHART = _trees(_LEAVES)
_USER = _trees(st.one_of(_LEAVES, st.none()))


@st.composite
def stacks(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    parent = draw(_CHART)
    for extra in ("sub", "global"):
        if draw(st.booleans()):
            parent[extra] = draw(_CHART)
    sub = draw(_CHART)
    if draw(st.booleans()):
        sub["global"] = draw(_CHART)
    users = []
    for _ in range(draw(st.integers(0, 3))):
        user = draw(_USER)
        for extra in ("sub", "global"):
            if draw(st.booleans()):
                user[extra] = draw(_USER)
        users.append(user)
    sets = draw(
        st.dictionaries(
            st.sampled_from(["a", "b.c", "sub.a", "global.b", "c[1]"]),
            st.sampled_from(["1", "true", "null", "x", "012"]),
            max_size=2,
        )
    )
    return parent, sub, users, sets


@pytest.mark.helm
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stack=stacks(), archive=st.booleans())
def test_random_stacks_merge_as_helm_does(helm_bin: Path, stack: Any, archive: bool) -> None:
    parent, sub, users, sets = stack
    with tempfile.TemporaryDirectory() as tmp:
        chart = make_chart(Path(tmp), parent, sub, archive=archive, condition=False)
        layers = layers_for(chart, users, sets)
        assert explain(layers).merged == helm_values(helm_bin, chart, layers, Path(tmp) / "out")
