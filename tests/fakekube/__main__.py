"""Run fakekube standalone: ``python -m tests.fakekube --port 6443 --kubeconfig PATH``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .server import FakeKube


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fakekube", description="A fake Kubernetes API server for tests.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig")
    parser.add_argument("--namespace-deletion-delay", type=float, default=0.3)
    parser.add_argument("--ready-delay", type=float, default=0.0)
    parser.add_argument("--run-jobs-in", help="run Jobs' commands as local processes in this directory")
    parser.add_argument(
        "--job-entrypoint",
        action="append",
        default=[],
        metavar="IMAGE=ARGV",
        help="with --run-jobs-in: run this space-separated argv for a Job container of IMAGE without command",
    )
    parser.add_argument("--no-auth", action="store_true", help="accept requests without the token")
    parser.add_argument("--log-requests", action="store_true", help="print each request to stderr")
    parser.add_argument("--verbose", action="store_true", help="with --log-requests: headers too")
    args = parser.parse_args(argv)

    kube = FakeKube(
        port=args.port,
        kubeconfig=args.kubeconfig,
        namespace_deletion_delay=args.namespace_deletion_delay,
        ready_delay=args.ready_delay,
        token=None if args.no_auth else "fakekube-token",
    )
    kube.job_entrypoints = {
        image: argv.split() for image, argv in (item.split("=", 1) for item in args.job_entrypoint)
    }
    if args.run_jobs_in:
        kube.run_jobs_in = Path(args.run_jobs_in)
    kube.start()
    print(f"fakekube listening on {kube.url}; kubeconfig: {kube.kubeconfig}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    seen = 0
    try:
        while not done.wait(0.2):
            if args.log_requests:
                log = list(kube.iter_log())
                for record in log[seen:]:
                    extra = f"  [t={record.started % 100:.3f} ct={record.content_type!r} accept={record.accept!r} ua={record.user_agent!r}]"
                    print(f"{record}{extra if args.verbose else ''}", file=sys.stderr, flush=True)
                seen = len(log)
    finally:
        kube.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
