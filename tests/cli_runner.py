"""The command line as the tests run it: main() in the test process, with an environment,
standard input and output of its own, answered as `subprocess.run` answers; or, where a process
of its own matters, `python -m monitor` itself."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

from monitor.cli.main import main
from monitor.store.db import get_engine

ROOT = Path(__file__).resolve().parents[1]


def run_process(argv: Sequence[str], *, env: Mapping[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    """`python -m monitor ARGS` in a process of its own, as an operator starts it."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", *argv],
        cwd=ROOT,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_main(argv: Sequence[str], *, env: Mapping[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env, clear=True), mock.patch.object(sys, "stdin", io.StringIO(stdin)):
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse's --help
                code = exc.code if isinstance(exc.code, int) else 0
        url = os.environ.get("MONITOR_DATABASE_URL")
        if url:
            get_engine(url).dispose()  # as when the process ends: no connection left open on the file
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())
