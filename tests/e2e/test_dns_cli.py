"""DNS through the CLI: the platform guide's `deploytag dns` line as written, and deploy/destroy with records.

Real parts: the installed `deploytag`, the real cluster (with no cloud controller, the tests
fill status.loadBalancer.ingress as one would: kubeapi.LoadBalancerController), moto_server
holding the Cloudflare token in Secrets Manager, and the Cloudflare v4 double driven through
the official SDK.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from e2ehelpers import COMMIT, App, Result
from kubeapi import LoadBalancerController
from kubernetes.client.exceptions import ApiException

from servers.cloudflare import CloudflareDouble

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

FRONTEND = "{.Branch}-guest-server-frontend-aws"
SERVER = "{.Branch}-guest-server-server-aws"
CONTROLLER_LB = LoadBalancerController.hostname("ingress-nginx-controller", "ingress-nginx")


def by_type(double: CloudflareDouble, rtype: str) -> dict[str, str]:
    return {r["name"]: r["content"] for r in double.records.values() if r["type"] == rtype}


def ingress_controller(app: App) -> None:
    """The shared ingress controller's LoadBalancer Service, with the address a cloud would give it.

    Cluster-wide and shared by the tests (created once, left in place): nothing in it runs.
    """
    store = app.kube.store
    if store.get("namespaces", None, "ingress-nginx") is None:
        store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ingress-nginx"}})
    if store.get("services", "ingress-nginx", "ingress-nginx-controller") is None:
        try:
            store.create(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
                    "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
                },
                "ingress-nginx",
            )
        except ApiException as e:
            if e.status != 409:  # another session made it meanwhile
                raise
    ingress = {"status": {"loadBalancer": {"ingress": [{"hostname": CONTROLLER_LB}]}}}
    store.patch_status("services", "ingress-nginx", "ingress-nginx-controller", ingress)


def guide_command(app: App, zone_id: str, *extra: str) -> Result:
    # Exactly the platform guide's line; the branch comes from the CI-style environment.
    return app.run(
        "--cloud", "aws", "--cloud-aws-secret-id", "cloud-secrets",
        "dns", "--cloudflare-zone-id", zone_id,
        "--record", FRONTEND, "--record", SERVER,
        *extra,
    )  # fmt: skip


def test_the_guides_dns_command_as_written(
    app: App, cloudflare: CloudflareDouble, moto: str, sm: SecretsManagerClient
) -> None:
    sm.create_secret(
        Name="cloud-secrets", SecretString=json.dumps({"CLOUDFLARE_API_TOKEN": cloudflare.token})
    )
    ingress_controller(app)
    # Only what a CI job has: the token is in Secrets Manager, not the environment.
    app.extra_env = {
        "DEPLOYTAG_SECRETS__ENDPOINT_URL": moto,
        "DEPLOYTAG_BRANCH": "feature/login",
        "DEPLOYTAG_COMMIT": COMMIT,
        "DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL": cloudflare.base_url,
    }
    zone_id = cloudflare.zone_id
    first = guide_command(app, zone_id)
    assert first.returncode == 0, first.stderr
    cnames = by_type(cloudflare, "CNAME")
    assert len(cnames) == 2 and set(cnames.values()) == {CONTROLLER_LB}
    frontend = next(n for n in cnames if "-guest-server-frontend-aws" in n)
    assert frontend.startswith("feature-login-")
    txt = by_type(cloudflare, "TXT")
    assert (
        txt[f"dt-{frontend}"]
        == f'"heritage=deploytag,deploytag/app={app.name},deploytag/branch=feature/login"'
    )
    assert "created" in first.stdout and cloudflare.token not in first.stdout + first.stderr

    again = guide_command(app, zone_id, "-o", "json")
    assert again.returncode == 0
    assert [r["action"] for r in again.json()["records"]] == ["unchanged", "unchanged"]

    # Someone else's record at a name the guide's template gives for another branch.
    plan = app.run("plan", "--branch", "bug/7", "--no-render", "-o", "json").json()
    taken_name, free_name = (r["fqdn"] for r in plan["dns_records"])
    cloudflare.add(taken_name, "A", "198.51.100.9")
    other_env = {**app.extra_env, "DEPLOYTAG_BRANCH": "bug/7"}
    app.extra_env = other_env
    taken = guide_command(app, zone_id)
    assert taken.returncode == 16
    assert f"DNS record {taken_name} exists and was not created by DeployTag" in taken.stderr
    assert by_type(cloudflare, "A")[taken_name] == "198.51.100.9"
    assert free_name not in by_type(cloudflare, "CNAME")  # checked before anything was written
    deleted_other = guide_command(app, zone_id, "--delete")
    assert deleted_other.returncode == 0 and "not-ours" in deleted_other.stdout
    assert by_type(cloudflare, "A")[taken_name] == "198.51.100.9"

    app.extra_env = {**other_env, "DEPLOYTAG_BRANCH": "feature/login"}
    would = guide_command(app, zone_id, "--delete", "--dry-run", "-o", "json").json()
    assert would["outcome"] == "dry-run" and len(by_type(cloudflare, "CNAME")) == 2
    deleted = guide_command(app, zone_id, "--delete", "-o", "json")
    assert [r["action"] for r in deleted.json()["records"]] == ["deleted", "deleted"]
    assert by_type(cloudflare, "CNAME") == {} and by_type(cloudflare, "TXT") == {}


def test_wrong_token_is_one_line_naming_the_record(app: App, cloudflare: CloudflareDouble) -> None:
    ingress_controller(app)
    app.extra_env = {
        "CLOUDFLARE_API_TOKEN": "not-the-token-123456",
        "DEPLOYTAG_BRANCH": "feature/login",
        "DEPLOYTAG_DNS__CLOUDFLARE__BASE_URL": cloudflare.base_url,
    }
    result = app.run("dns", "--cloudflare-zone-id", cloudflare.zone_id, "--target", "192.0.2.1")
    assert result.returncode == 16
    [line] = result.stderr.strip().splitlines()[-1:]
    assert "refused the API token" in line and "not-the-token-123456" not in result.stderr
    assert cloudflare.records == {}


def test_deploy_creates_records_redeploy_keeps_them_destroy_deletes_ours(
    app: App, cloudflare: CloudflareDouble
) -> None:
    foreign = cloudflare.add("www.example.com", "CNAME", "somewhere.example.net")
    deployed = app.deploy()
    assert deployed.returncode == 0, deployed.stderr
    report = deployed.json()
    ns = report["namespace"]
    cnames = by_type(cloudflare, "CNAME")
    ours = sorted(n for n in cnames if n != "www.example.com")
    assert len(ours) == 2
    assert {cnames[n] for n in ours} == {LoadBalancerController.hostname(report["release"], ns)}
    assert {f"http://{n}/" for n in ours} <= set(report["urls"])
    dns_step = next(s for s in report["steps"] if s["name"] == "dns")
    assert dns_step["outcome"] == "changed"
    recorded = json.loads(
        app.kube.store.get("namespaces", None, ns)["metadata"]["annotations"]["deploytag.dev/dns"]
    )
    assert sorted(recorded["names"]) == ours
    # The chart's Ingress gets the environment's names as its hosts.
    values = app.run("values", "--branch", "feature/login", "--commit", COMMIT, "-o", "json")
    assert values.returncode == 0, values.stderr
    assert ours[0] in values.stdout

    again = app.deploy().json()
    assert next(s for s in again["steps"] if s["name"] == "dns")["outcome"] == "unchanged"

    destroyed = app.run("destroy", "--branch", "feature/login", "-o", "json")
    assert destroyed.returncode == 0, destroyed.stderr
    dns_removed = [r for r in destroyed.json()["removed"] if r["what"] == "dns record"]
    assert sorted(r["name"] for r in dns_removed) == ours and all(r["existed"] for r in dns_removed)
    assert list(cloudflare.records.values()) == [foreign]
