"""A local stand-in for kaniko's executor: kaniko's flags, the real buildah, a real registry.

kaniko itself needs its image and a cluster; neither exists here. fakekube runs a
Job container without ``command`` as its image's entrypoint, and tests map the
kaniko image to

    python tests/servers/kaniko_standin.py --storage D  <kaniko flags>

which does what kaniko does with them: clone the ``git://`` context at the
commit (or fetch the ``s3://`` tar.gz), build with buildah (``bud``, vfs storage in D), push every
``--destination`` only after the build succeeded, using the docker config.json
mounted at $DOCKER_CONFIG (default /kaniko/.docker) and write the digest to
``--digest-file``. Absolute paths inside the "container" (the docker config, the
digest file) live under $FAKEKUBE_POD_ROOT, the pod's root directory.
Unknown flags are an error, so DeployTag cannot rely on one kaniko lacks.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlsplit


def in_pod(path: str) -> Path:
    root = os.environ.get("FAKEKUBE_POD_ROOT")
    return Path(root) / path.lstrip("/") if root and path.startswith("/") else Path(path)


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="kaniko-standin")
    p.add_argument("--storage", type=Path, required=True, help="buildah storage (the stand-in's own)")
    p.add_argument("--context", required=True)
    p.add_argument("--context-sub-path", default="")
    p.add_argument("--dockerfile", default="Dockerfile")
    p.add_argument("--destination", action="append", default=[])
    p.add_argument("--build-arg", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--digest-file")
    p.add_argument("--custom-platform")
    p.add_argument("--insecure-registry", action="append", default=[])
    for flag in ("--insecure", "--insecure-pull", "--skip-tls-verify", "--skip-tls-verify-pull", "--no-push"):
        p.add_argument(flag, action="store_true")
    return p.parse_args(argv)


def run(argv: list[str], **kw: object) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    sys.stdout.flush()
    if proc.returncode != 0:
        print(f"error building image: {argv[0]} exited {proc.returncode}", flush=True)
        sys.exit(1)


def fetch_s3(context: str, into: Path) -> None:
    """kaniko's s3 context: a tar.gz; a non-AWS endpoint comes from S3_ENDPOINT, as for kaniko."""
    import boto3

    bucket, _, key = context.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT"))
    print(f"INFO Using s3 context s3://{bucket}/{key}", flush=True)
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        tar.extractall(into, filter="data")


def checkout(context: str, into: Path) -> None:
    """kaniko's git context: ``git://<repo>#<ref>#<commit>``; here the repo may be a local path."""
    if context.startswith("s3://"):
        fetch_s3(context, into)
        return
    if not context.startswith("git://"):
        print(f"error: the stand-in supports git:// and s3:// contexts only, got {context}", flush=True)
        sys.exit(1)
    url, _, fragment = context.partition("#")
    ref, _, commit = fragment.partition("#")
    parts = urlsplit(url)
    remote = parts.path if not parts.netloc else f"https://{parts.netloc}{parts.path}"
    print(f"INFO Using git context {remote} ref={ref or '(default)'} commit={commit}", flush=True)
    run(["git", "clone", "--quiet", "--no-checkout", remote, str(into)])
    if ref:
        run(["git", "-C", str(into), "fetch", "--quiet", "origin", ref])
    run(["git", "-C", str(into), "checkout", "--quiet", "--detach", commit or "FETCH_HEAD"])


def main(argv: list[str]) -> int:
    args = parse(argv)
    buildah = [
        shutil.which("buildah") or "buildah",
        "--root", str(args.storage / "root"),
        "--runroot", str(args.storage / "run"),
        "--storage-driver", "vfs",
    ]  # fmt: skip
    authfile = in_pod(os.environ.get("DOCKER_CONFIG", "/kaniko/.docker")) / "config.json"
    tls = ["--tls-verify=false"] if args.insecure_registry or args.insecure or args.insecure_pull else []
    auth = ["--authfile", str(authfile)] if authfile.is_file() else []
    with tempfile.TemporaryDirectory(prefix="kaniko-standin-") as tmp:
        source = Path(tmp) / "src"
        checkout(args.context, source)
        context = source / args.context_sub_path
        iid = Path(tmp) / "iid"
        bud = [
            *buildah,
            "bud",
            "--isolation",
            "chroot",
            "--iidfile",
            str(iid),
            "-f",
            str(context / args.dockerfile),
        ]
        bud += [x for a in args.build_arg for x in ("--build-arg", a)]
        bud += [x for a in args.label for x in ("--label", a)]
        bud += ["--platform", args.custom_platform] if args.custom_platform else []
        run([*bud, *tls, *auth, str(context)], cwd=context)
        image = iid.read_text().strip()
        if args.no_push:
            print("INFO Skipping push to container registry due to --no-push flag", flush=True)
            return 0
        digest = ""
        for destination in args.destination:
            digest_file = Path(tmp) / "digest"
            run(
                [
                    *buildah,
                    "push",
                    "--digestfile",
                    str(digest_file),
                    *tls,
                    *auth,
                    image,
                    f"docker://{destination}",
                ]
            )
            digest = digest_file.read_text().strip()
            print(f"INFO Pushed {destination.rsplit(':', 1)[0]}@{digest}", flush=True)
        if args.digest_file:
            target = in_pod(args.digest_file)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
