"""The registry's order is checked against what each capability needs and provides."""

from __future__ import annotations

import subprocess
import sys

import pytest

from deploytag.capabilities.base import Capability, MissingOutputError, Outputs, StepResult
from deploytag.capabilities.context import RunContext
from deploytag.capabilities.outputs import DnsTargets, DnsUrls, ReleaseResult
from deploytag.capabilities.registry import NAMES, PipelineOrderError, build, check_order, load


def test_the_registry_order_satisfies_every_declared_need() -> None:
    pipeline = build()
    assert [c.name for c in pipeline] == list(NAMES)
    assert NAMES == (
        "test", "base", "image", "namespace", "quota", "database",
        "secrets", "migrate", "release", "expose", "dns", "verify",
    )  # fmt: skip


def test_a_capability_before_its_provider_fails_loudly_naming_both() -> None:
    dns, expose = load("dns"), load("expose")
    with pytest.raises(
        PipelineOrderError, match=r"'dns' needs DnsTargets.*expose provides it but runs later"
    ):
        check_order([dns, expose])


def test_a_need_nothing_provides_fails_loudly() -> None:
    with pytest.raises(PipelineOrderError, match=r"'verify' needs ReleaseResult.*nothing provides it"):
        build(names=("expose", "dns", "verify"))


def test_a_need_given_by_an_earlier_part_of_the_run_is_accepted() -> None:
    check_order([load("verify")], given=(ReleaseResult, DnsUrls))


class _Forgetful(Capability):
    name = "forgetful"
    provides = (DnsTargets,)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        return StepResult("unchanged")


def test_the_runner_refuses_a_capability_that_did_not_provide_what_it_declares() -> None:
    from deploytag.capabilities.runner import _check_provided

    with pytest.raises(MissingOutputError, match="'forgetful' declares it provides DnsTargets but did not"):
        _check_provided(_Forgetful(), Outputs())


def test_outputs_are_keyed_by_type_and_a_missing_one_is_named() -> None:
    outputs = Outputs()
    outputs.put(DnsTargets(("lb.example",)))
    assert outputs.get(DnsTargets).addresses == ("lb.example",)
    assert outputs.find(DnsUrls) is None
    with pytest.raises(MissingOutputError, match="no DnsUrls was provided"):
        outputs.get(DnsUrls)


def test_unknown_capability_names_are_refused() -> None:
    with pytest.raises(KeyError, match="no capability named 'gc'"):
        build(names=("gc",))


def test_the_registry_imports_no_capability_module_until_asked() -> None:
    code = (
        "import sys, deploytag.capabilities.registry as r; "
        "print(sorted(m for m in sys.modules if m.startswith('deploytag.capabilities.'))); "
        "r.load('dns'); print('deploytag.capabilities.dns' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first, loaded = out.splitlines()
    assert first == "['deploytag.capabilities.base', 'deploytag.capabilities.registry']"
    assert loaded == "True"
