"""Label and field selectors, parsed as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError

Matcher = Callable[[Mapping[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>[-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")


def _split_top(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _requirement(text: str) -> Matcher:
    if m := _SET_RE.match(text):
        key = m["key"]
        values = {v.strip() for v in m["values"].split(",") if v.strip()}
        if m["op"] == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: key not in labels or labels[key] not in values
    if m := _EQ_RE.match(text):
        key, value = m["key"], m["value"]
        if m["op"] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_RE.match(text):
        key = m["key"]
        if m["neg"]:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise ApiError.bad_request(f'unable to parse requirement: found "{text.strip()}", invalid label selector')


def parse_label_selector(selector: str | None) -> Matcher:
    """``a=b,c!=d,e in (f,g),h notin (i),j,!k`` -> predicate over a label map."""
    if not selector or not selector.strip():
        return lambda labels: True
    matchers = [_requirement(part) for part in _split_top(selector)]
    return lambda labels: all(m(labels) for m in matchers)


def label_selector_string(selector: Mapping[str, Any] | None) -> str:
    """A ``metav1.LabelSelector`` (matchLabels + matchExpressions) as a selector string."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def match_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a ``metav1.LabelSelector`` selects these labels (an empty one selects all)."""
    return parse_label_selector(label_selector_string(selector))(labels)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# The fields each kind can be selected by on a real server (beyond metadata.name/namespace);
# anything else is a 400 "field label not supported", here as there.
_EVENT_FIELDS = [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
]
FIELD_LABELS: dict[tuple[str, str], set[str]] = {
    ("", "pods"): {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    },
    ("", "events"): set(_EVENT_FIELDS),
    ("events.k8s.io", "events"): {
        f.replace("involvedObject", "regarding").replace("reportingComponent", "reportingController")
        for f in _EVENT_FIELDS
        if f != "source"
    }
    | {"deprecatedSource"},
    ("", "secrets"): {"type"},
    ("", "namespaces"): {"status.phase"},
    ("", "nodes"): {"spec.unschedulable"},
    ("", "services"): {"spec.clusterIP", "spec.type"},
    ("", "replicationcontrollers"): {"status.replicas"},
    ("apps", "replicasets"): {"status.replicas"},
    ("batch", "jobs"): {"status.successful"},
}


_ALIASES = {
    "source": "source.component",
    "deprecatedSource": "deprecatedSource.component",
    "status.successful": "status.succeeded",
}


def parse_field_selector(
    selector: str | None, kind: tuple[str, str] | None = None
) -> Callable[[Mapping[str, Any]], bool]:
    """``metadata.name=x,status.phase!=Running`` -> predicate over an object.

    With ``kind`` (group, resource), only the fields a real server supports for it are
    accepted.
    """
    if not selector or not selector.strip():
        return lambda obj: True
    checks: list[tuple[str, bool, str]] = []
    for part in _split_top(selector):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError.bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        field = m.group(1)
        if bad := re.search(r"(?<!\\)[=!]", m.group(3)):  # as fields.ParseSelector: escape them with \\
            raise ApiError.bad_request(
                f"invalid field selector: unescaped character in value: {ord(bad.group())}"
            )
        known = field in ("metadata.name", "metadata.namespace") or field in FIELD_LABELS.get(
            kind or ("", ""), set()
        )
        if kind is not None and not known:
            raise ApiError.bad_request(f"field label not supported: {field}")
        checks.append((_ALIASES.get(field, field), m.group(2) == "!=", m.group(3)))

    def match(obj: Mapping[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negate for path, negate, value in checks)

    return match
