"""Every way a kubeconfig authenticates, through the direct transport, against the real API server.

The session's kubeconfig (client certificate) covers the usual path in every cluster test;
here the others: bearer token, token file (re-read when it changes), exec plugins (v1 and
v1beta1, token or client certificate, re-run when expired or refused), CA file vs data,
tls-server-name, insecure-skip-tls-verify and the in-cluster service account. A 403 from
the real server names the identity a request carried. Nothing is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubeauth import Admin, Identities, b64, credential, exec_plugin, runs
from kubeauth import write_kubeconfig as write

from deploytag.adapters.kubernetes import KubernetesCluster, kubeconfig
from deploytag.core.errors import ClusterError
from realkube import RealKube

pytestmark = pytest.mark.cluster


def forbidden_user(cluster: KubernetesCluster) -> str:
    """Who the server says we are: the user named in its 403 for reading a namespace."""
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="kube-system")
    message = caught.value.message
    assert "forbids get namespaces/kube-system" in message, message
    return message.split('User "')[1].split('"')[0]


def test_a_bearer_token(tmp_path: Path, admin: Admin, ids: Identities) -> None:
    cluster = KubernetesCluster(
        kubeconfig=str(write(tmp_path / "k", admin.cluster(), {"token": ids.alpha})), context=None
    )
    assert cluster.list_services(namespace=ids.namespace) == []  # alpha may view its namespace
    assert forbidden_user(cluster) == ids.user("alpha")
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="kube-system")
    assert ids.alpha not in str(caught.value)


def test_a_token_file_relative_to_the_kubeconfig_is_read_again_when_it_changes(
    tmp_path: Path, admin: Admin, ids: Identities
) -> None:
    token = tmp_path / "conf" / "token"
    path = write(tmp_path / "conf" / "kubeconfig", admin.cluster(), {"tokenFile": "token"})
    token.write_text(ids.alpha + "\n")
    cluster = KubernetesCluster(kubeconfig=str(path), context=None)
    assert forbidden_user(cluster) == ids.user("alpha")
    token.write_text(ids.beta + "\n")  # rotated, as a CI runner or the kubelet does
    later = time.time() + 5
    os.utime(token, (later, later))
    assert forbidden_user(cluster) == ids.user("beta")


@pytest.mark.parametrize(
    "api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
)
def test_an_exec_plugin_token_is_cached_until_it_expires(
    tmp_path: Path, admin: Admin, ids: Identities, api_version: str
) -> None:
    plugins = tmp_path / "plugins"
    far = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    exec_plugin(plugins, credential(api_version, token=ids.alpha, expirationTimestamp=far))
    user = {
        "exec": {
            "apiVersion": api_version,
            "command": "plugins/plugin",  # relative to the kubeconfig's directory
            "env": [{"name": "PLUGIN_GREETING", "value": "hello"}],
            "interactiveMode": "Never",
        }
    }
    cluster = KubernetesCluster(
        kubeconfig=str(write(tmp_path / "kubeconfig", admin.cluster(), user)), context=None
    )
    assert cluster.describe().startswith("context dev (")
    assert runs(plugins) == []  # describing runs nothing
    assert forbidden_user(cluster) == ids.user("alpha")
    assert cluster.list_services(namespace=ids.namespace) == []
    assert runs(plugins) == [f"{api_version} hello"]  # one run for both requests


def test_an_expired_exec_credential_is_renewed(tmp_path: Path, admin: Admin, ids: Identities) -> None:
    v1 = "client.authentication.k8s.io/v1"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    exec_plugin(
        tmp_path / "p",
        credential(v1, token=ids.alpha, expirationTimestamp=now),
        credential(v1, token=ids.beta),  # no expiry: valid until refused
    )
    user = {"exec": {"apiVersion": v1, "command": str(tmp_path / "p" / "plugin"), "interactiveMode": "Never"}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "k", admin.cluster(), user)), context=None)
    assert forbidden_user(cluster) == ids.user("alpha")
    assert forbidden_user(cluster) == ids.user("beta")
    assert forbidden_user(cluster) == ids.user("beta")
    assert len(runs(tmp_path / "p")) == 2


def test_an_exec_credential_the_server_refuses_is_renewed_once(
    tmp_path: Path, admin: Admin, ids: Identities
) -> None:
    v1 = "client.authentication.k8s.io/v1"
    exec_plugin(tmp_path / "p", credential(v1, token="revoked-token-0000"), credential(v1, token=ids.alpha))
    user = {"exec": {"apiVersion": v1, "command": str(tmp_path / "p" / "plugin"), "interactiveMode": "Never"}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "k", admin.cluster(), user)), context=None)
    assert cluster.list_services(namespace=ids.namespace) == []
    assert len(runs(tmp_path / "p")) == 2


def test_an_exec_plugin_client_certificate(tmp_path: Path, admin: Admin) -> None:
    if not admin.cert_pem:
        pytest.skip("the session's kubeconfig has no client certificate to hand out")
    v1beta1 = "client.authentication.k8s.io/v1beta1"
    answer = credential(
        v1beta1, clientCertificateData=admin.cert_pem.decode(), clientKeyData=admin.key_pem.decode()
    )
    exec_plugin(tmp_path / "p", answer)
    user = {"exec": {"apiVersion": v1beta1, "command": str(tmp_path / "p" / "plugin")}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "k", admin.cluster(), user)), context=None)
    assert cluster.get_namespace(name="kube-system") is not None


def test_exec_plugin_failures_say_what_to_do_and_keep_secrets_out(tmp_path: Path, admin: Admin) -> None:
    v1 = "client.authentication.k8s.io/v1"
    missing = {"exec": {"apiVersion": v1, "command": "no-such-plugin-x", "installHint": "brew install x"}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "a", admin.cluster(), missing)), context=None)
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="default")
    assert "cannot get credentials for context dev" in caught.value.message
    assert "no-such-plugin-x is not installed" in caught.value.message
    assert "brew install x" in (caught.value.hint or "")
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\necho 'login failed: token=supersecret123' >&2\nexit 3\n")
    failing.chmod(0o755)
    user = {"exec": {"apiVersion": v1, "command": str(failing)}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "b", admin.cluster(), user)), context=None)
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="default")
    assert "exited with status 3: login failed" in caught.value.message
    assert "supersecret123" not in str(caught.value)
    wrong = tmp_path / "wrong"
    exec_plugin(wrong, credential("client.authentication.k8s.io/v1beta1", token="t0ken-abc"))
    user = {"exec": {"apiVersion": v1, "command": str(wrong / "plugin")}}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "c", admin.cluster(), user)), context=None)
    with pytest.raises(ClusterError) as caught:
        cluster.get_namespace(name="default")
    assert "not client.authentication.k8s.io/v1 as the kubeconfig asks" in caught.value.message


def test_ca_and_client_certificate_as_files(tmp_path: Path, admin: Admin) -> None:
    if not admin.cert_pem:
        pytest.skip("the session's kubeconfig has no client certificate")
    conf = tmp_path / "conf"
    conf.mkdir()
    for name, data in (
        ("ca.crt", admin.ca_pem),
        ("client.crt", admin.cert_pem),
        ("client.key", admin.key_pem),
    ):
        (conf / name).write_bytes(data)
    path = write(
        conf / "kubeconfig",
        {"server": admin.server, "certificate-authority": "ca.crt"},
        {"client-certificate": "client.crt", "client-key": str(conf / "client.key")},
    )
    assert KubernetesCluster(kubeconfig=str(path), context=None).get_namespace(name="kube-system") is not None


def test_client_certificate_data_leaves_no_file_behind(tmp_path: Path, real_kube: RealKube) -> None:
    # The key is written only where ssl can read it (an anonymous memory file, else a 0600 temp
    # file removed at once): after loading, the temp directory is as empty as before.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = (
        "from deploytag.adapters.kubernetes import KubernetesCluster\n"
        f"c = KubernetesCluster(kubeconfig={str(real_kube.kubeconfig)!r}, context={real_kube.context!r})\n"
        "assert c.get_namespace(name='default') is not None\n"
    )
    env = {**os.environ, "TMPDIR": str(scratch)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert list(scratch.iterdir()) == []


def test_tls_server_name_is_the_name_checked(tmp_path: Path, admin: Admin, ids: Identities) -> None:
    user = {"token": ids.alpha}
    # Every API server's certificate names kubernetes.default (the in-cluster Service name).
    good = write(tmp_path / "good", admin.cluster(**{"tls-server-name": "kubernetes.default"}), user)
    assert KubernetesCluster(kubeconfig=str(good), context=None).list_services(namespace=ids.namespace) == []
    bad = write(tmp_path / "bad", admin.cluster(**{"tls-server-name": "not-the-api.example"}), user)
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(bad), context=None).get_namespace(name="default")
    assert "TLS failed talking to context dev" in caught.value.message
    assert "not-the-api.example" in caught.value.message
    assert (
        caught.value.hint == "check the server URL and certificate-authority data of the kubeconfig context"
    )


def test_insecure_skip_tls_verify_and_an_untrusted_ca(tmp_path: Path, admin: Admin, ids: Identities) -> None:
    if not admin.cert_pem:
        pytest.skip("needs a certificate that did not sign the server's")
    user = {"token": ids.alpha}
    untrusted = {"server": admin.server, "certificate-authority-data": b64(admin.cert_pem)}
    with pytest.raises(ClusterError) as caught:
        KubernetesCluster(kubeconfig=str(write(tmp_path / "a", untrusted, user)), context=None).get_namespace(
            name="default"
        )
    assert "TLS failed" in caught.value.message and "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    insecure = {"server": admin.server, "insecure-skip-tls-verify": True}
    cluster = KubernetesCluster(kubeconfig=str(write(tmp_path / "b", insecure, user)), context=None)
    assert cluster.list_services(namespace=ids.namespace) == []


def test_the_in_cluster_service_account(
    tmp_path: Path, admin: Admin, ids: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit

    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "ca.crt").write_bytes(admin.ca_pem)
    (account / "token").write_text(ids.alpha)
    url = urlsplit(admin.server)
    monkeypatch.setattr(kubeconfig, "SERVICE_ACCOUNT_DIR", str(account))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", url.hostname or "")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(url.port or 443))
    cluster = KubernetesCluster(kubeconfig=None, context=None)
    assert (
        cluster.describe() == f"context in-cluster service account (https://{url.hostname}:{url.port or 443})"
    )
    assert cluster.list_services(namespace=ids.namespace) == []
    assert forbidden_user(cluster) == ids.user("alpha")
    (account / "token").write_text(ids.beta)  # the kubelet rotates the projected token
    later = time.time() + 5
    os.utime(account / "token", (later, later))
    assert forbidden_user(cluster) == ids.user("beta")
