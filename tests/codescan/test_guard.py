"""The runtime guard. End-to-end runs use a child process, because an audit hook cannot be
removed once added; the hook's logic is also driven directly, without installing it."""

from __future__ import annotations

import base64
import codecs
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shieldwall.codescan import Scanner
from shieldwall.codescan.guard import Guard
from shieldwall.errors import ScanBlocked

from .test_models import swapper_like

HIDDEN = base64.b64encode(codecs.encode("https://github.com/s0md3v/roop", "rot13").encode())


def run_guarded(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under ``python -m shieldwall.guard`` with a fake ``git`` on PATH that
    leaves a marker file when it is started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_git = bin_dir / "git"
    fake_git.write_text(f"#!/bin/sh\ntouch {tmp_path / 'git-started'}\n")
    fake_git.chmod(0o755)
    (tmp_path / "job.py").write_text(script)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "shieldwall.guard", "job.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hidden_clone_url_is_stopped_before_the_subprocess_starts(tmp_path: Path) -> None:
    # The URL is hidden (reverse > base64 > rot13): the guard undoes it when the script is
    # compiled; the clone never starts, and the explanation names the decoded URL.
    script = (
        "import base64, codecs, subprocess\n"
        "def reveal(s):\n"
        "    return codecs.decode(base64.b64decode(s[::-1]).decode(), 'rot13')\n"
        f"target = reveal({HIDDEN.decode()[::-1]!r})\n"
        "subprocess.run(['git', 'clone', target, '.program'])\n"
        "print('clone finished')\n"
    )
    proc = run_guarded(tmp_path, script)
    assert proc.returncode == 3, proc.stderr
    assert "clone finished" not in proc.stdout
    assert not (tmp_path / "git-started").exists()  # stopped before the process started
    assert "BLOCKED" in proc.stderr
    assert "https://github.com/s0md3v/roop" in proc.stderr
    assert "SW-ROOP-REPO" in proc.stderr
    assert "rot13" in proc.stderr
    assert "appeal" in proc.stderr


def test_url_known_only_at_run_time_is_stopped_at_the_spawn(tmp_path: Path) -> None:
    # Static analysis cannot see this URL (it is read from a file when the script runs): the
    # spawn itself is the one strong signal, confirmed at run time, and it is blocked.
    (tmp_path / "job.cfg").write_text(HIDDEN.decode())
    script = (
        "import base64, codecs, pathlib, subprocess\n"
        "raw = pathlib.Path('job.cfg').read_text()\n"
        "target = codecs.decode(base64.b64decode(raw).decode(), 'rot13')\n"
        "print('about to clone', flush=True)\n"
        "subprocess.run(['git', 'clone', target, '.program'])\n"
        "print('clone finished')\n"
    )
    proc = run_guarded(tmp_path, script)
    assert proc.returncode == 3, proc.stderr
    assert "about to clone" in proc.stdout
    assert "clone finished" not in proc.stdout
    assert not (tmp_path / "git-started").exists()
    assert "stopped subprocess.Popen" in proc.stderr
    assert "seen at run time" in proc.stderr
    assert "https://github.com/s0md3v/roop" in proc.stderr


def test_ordinary_programs_run_normally_under_the_guard(tmp_path: Path) -> None:
    script = (
        "import subprocess, json\n"
        "subprocess.run(['git', 'clone', 'https://github.com/ultralytics/yolov5'])\n"
        "print(json.dumps({'ok': True}))\n"
    )
    proc = run_guarded(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    assert '{"ok": true}' in proc.stdout
    assert (tmp_path / "git-started").exists()


def test_hook_blocks_a_face_swap_url_fetch_at_run_time() -> None:
    guard = Guard(Scanner(), log=io.StringIO())
    with pytest.raises(ScanBlocked) as err:
        guard.hook(
            "urllib.Request",
            (
                "https://huggingface.co/hacksider/deep-live-cam/resolve/main/inswapper_128_fp16.onnx",
                None,
                {},
                "GET",
            ),
        )
    assert "SW-SWAP-MODEL-URL" in err.value.message
    assert err.value.exit_code == 3


def test_hook_adds_up_evidence_and_ignores_unrelated_events() -> None:
    guard = Guard(Scanner(), log=io.StringIO())
    guard.hook("os.listdir", (".",))
    guard.hook("compile", ("print('hello')", "cell.py"))
    guard.hook("subprocess.Popen", ("ls", ["ls", "-l"], None, None))
    assert guard.history == []
    # A weak signal at run time never blocks.
    guard.hook("os.system", (b"ngrok http 7860",))
    assert [f.rule_id for f in guard.history] == ["SW-WEAK-TUNNEL"]
    with pytest.raises(ScanBlocked):
        guard.hook(
            "os.system", (b"python run.py -s a.jpg -t b.mp4 --frame-processor face_swapper",)
        )


def test_hook_checks_large_model_files_opened(tmp_path: Path) -> None:
    model = swapper_like(tmp_path / "weights.onnx")
    small = Scanner(
        settings=Scanner().settings.model_copy(update={"codescan_guard_min_file_bytes": 1})
    )
    guard = Guard(small, log=io.StringIO())
    with pytest.raises(ScanBlocked, match="SW-INSWAPPER-ONNX"):
        guard.hook("open", (str(model), "rb", 0))


def test_hook_reads_strings_of_code_objects_run_without_source() -> None:
    guard = Guard(Scanner(), log=io.StringIO())
    code = compile("URL = 'https://github.com/facefusion/facefusion'", "/tmp/payload.py", "exec")
    guard.hook("exec", (code,))
    assert [f.rule_id for f in guard.history] == ["SW-FF-REPO"]


def test_importable_hook_for_a_notebook_kernel(tmp_path: Path) -> None:
    # What %load_ext shieldwall.guard does in a kernel: install the hook in the running process.
    code = (
        "import shieldwall.guard, subprocess\n"
        "shieldwall.guard.load_ipython_extension(None)\n"
        "try:\n"
        "    subprocess.run(['git', 'clone', 'https://github.com/facefusion/facefusion'])\n"
        "except Exception as exc:\n"
        "    print('stopped:', type(exc).__name__)\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f"#!/bin/sh\ntouch {tmp_path / 'git-started'}\n")
    (bin_dir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
        check=False,
    )  # fmt: skip
    assert "stopped: ScanBlocked" in proc.stdout, proc.stderr
    assert not (tmp_path / "git-started").exists()
