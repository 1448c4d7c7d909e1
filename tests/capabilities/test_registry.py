"""The registry's order is checked against what each capability needs and provides."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from deploytag.capabilities import registry
from deploytag.capabilities.base import Capability, MissingOutputError, Outputs, StepResult
from deploytag.capabilities.context import RunContext
from deploytag.capabilities.outputs import DnsTargets, DnsUrls, EnvironmentUrls, ReleaseResult
from deploytag.capabilities.registry import NAMES, Entry, PipelineOrderError, build, check_order, load


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
        build(["expose", "dns", "verify"])


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
        build(["gc"])


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


class WarmupStep(Capability):
    """The worked example of docs/development.md: a step after verify that needs its URLs."""

    name = "warmup"
    needs = (EnvironmentUrls,)

    def ensure(self, *, ctx: RunContext) -> StepResult:
        urls = ctx.outputs.get(EnvironmentUrls).urls
        return StepResult("changed", f"warmed {len(urls)} URLs") if urls else StepResult("skipped", "no URLs")


@pytest.fixture
def warmup_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("deploytag.capabilities.warmup")
    module.WarmupStep = WarmupStep  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "deploytag.capabilities.warmup", module)


@pytest.mark.usefixtures("warmup_module")
def test_adding_a_step_is_its_module_and_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, Entry("warmup", "warmup", "WarmupStep")))
    pipeline = build()
    assert [c.name for c in pipeline][-2:] == ["verify", "warmup"]
    from deploytag.service.deploy import deploy_steps

    assert [c.name for c in deploy_steps()][-1] == "warmup"  # deploy runs it, under the lease


@pytest.mark.usefixtures("warmup_module")
def test_a_step_placed_before_the_output_it_needs_fails_when_the_pipeline_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = list(registry.REGISTRY)
    entries.insert(1, Entry("warmup", "warmup", "WarmupStep"))
    monkeypatch.setattr(registry, "REGISTRY", tuple(entries))
    with pytest.raises(
        PipelineOrderError, match=r"'warmup' needs EnvironmentUrls.*verify provides it but runs later"
    ):
        build()


def test_the_plan_and_status_flags_match_the_classes() -> None:
    """`plan` and `status` import only the flagged modules: a class with a part there must be flagged."""
    for entry in registry.REGISTRY:
        cls = type(load(entry.name))
        assert entry.plans == (cls.plan is not Capability.plan), entry.name
        assert entry.reports == (cls.status is not Capability.status), entry.name
