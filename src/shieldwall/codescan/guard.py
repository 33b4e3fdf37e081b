"""The runtime guard: PEP 578 audit hooks that rescan what a program actually does.

Obfuscation has to be undone before code can run, so the guard looks at the choke points:

- ``compile``: source as it is compiled (``exec`` of decoded strings included), scanned like a
  file (static evidence);
- ``exec``: the constant strings of code objects run without being compiled here (``marshal``,
  ``.pyc`` payloads);
- ``import``: module names as they are imported;
- ``subprocess.Popen``, ``os.system``, ``os.exec``, ``os.posix_spawn``, ``os.spawn``: command
  lines as they are spawned;
- ``urllib.Request``: URLs as they are fetched;
- ``open``: file names as files are opened, and model files of at least
  ``codescan_guard_min_file_bytes`` by fingerprint and ONNX structure.

Evidence from imports, spawns, URLs and opened files is *run-time* evidence: one strong signal
seen there confirms what static evidence only suggests. When an action's own findings bring the
session's verdict to ``block``, the guard prints the explanation and raises
:class:`~shieldwall.errors.ScanBlocked` from the hook, which stops that action (the subprocess
is never started, the URL never fetched).

**Audit hooks are telemetry, not a sandbox.** Code in the same process can catch the exception
and carry on with other actions, call C code that raises no audit events, use ``ctypes``, or
spawn through a path the hooks do not see (``http.client`` sockets with no URL event, a
native extension). The guard raises the cost of evasion and gives providers an explainable
signal; isolation belongs to the sandbox around the runtime.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from shieldwall.codescan.model import Facts, Finding, Fragment, Location, Origin, Verdict
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts, shell_facts
from shieldwall.codescan.scanner import Scanner
from shieldwall.codescan.verdict import Report
from shieldwall.errors import ScanBlocked

__all__ = ["Guard", "install"]

_MODEL_SUFFIXES = (".onnx", ".pth", ".pt", ".dfm", ".npy", ".dat", ".pkl", ".ckpt", ".bin")
_installed: Guard | None = None


class Guard:
    """Scans audit events against a scanner's rules and blocks actions on a block verdict.

    ``history`` keeps every finding of the session, so evidence adds up: a command line that
    is harmless alone is blocked once compiled code has already shown a strong signal.
    """

    def __init__(self, scanner: Scanner | None = None, log: TextIO | None = None) -> None:
        self.scanner = scanner or Scanner()
        self.log = log if log is not None else sys.stderr
        self.history: list[Finding] = []
        self.blocked: list[Report] = []
        self._local = threading.local()
        self._budget = DecodeBudget(self.scanner.settings.codescan_max_decode_depth)
        self._seen_files: dict[tuple[str, int, float], list[Finding]] = {}
        self._skip_prefixes = tuple(
            {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
        )
        self._handlers: dict[str, Callable[[tuple[object, ...]], tuple[Facts, Origin]]] = {
            "compile": self._on_compile,
            "exec": self._on_exec,
            "import": self._on_import,
            "subprocess.Popen": self._on_popen,
            "os.system": self._on_system,
            "os.exec": self._on_os_exec,
            "os.posix_spawn": self._on_os_exec,
            "os.spawn": self._on_spawn,
            "urllib.Request": self._on_url,
            "open": self._on_open,
        }

    def install(self) -> None:
        """Add the audit hook to this process (hooks cannot be removed: by design of PEP 578)."""
        sys.addaudithook(self.hook)

    def hook(self, event: str, args: tuple[object, ...]) -> None:
        """The audit hook. Never raises except :class:`ScanBlocked`: a bug in the guard must
        not break the program it watches."""
        handler = self._handlers.get(event)
        if handler is None or getattr(self._local, "busy", False):
            return
        self._local.busy = True  # our own parsing and file reads raise audit events too
        try:
            facts, origin = handler(args)
            if not (
                facts.fragments
                or facts.imports
                or facts.commands
                or facts.calls
                or facts.files
                or facts.hashes
                or facts.onnx_graphs
            ):
                return
            found = self.scanner.matcher.match(facts)
            if origin is Origin.RUNTIME:
                found = [replace(f, origin=Origin.RUNTIME) for f in found]
            self._judge(event, found)
        except ScanBlocked:
            raise
        except Exception as exc:
            print(f"shieldwall guard: could not inspect {event}: {exc!r}", file=self.log)
        finally:
            self._local.busy = False

    def _judge(self, event: str, found: list[Finding]) -> None:
        if not found:
            return
        self.history += found
        report = self.scanner.report(self.history)
        if report.verdict is Verdict.BLOCK:
            self.blocked.append(report)
            message = f"shieldwall guard stopped {event}:\n{report.message()}"
            print(message, file=self.log, flush=True)
            raise ScanBlocked(message)

    # -- event handlers -------------------------------------------------------------------------

    def _ours(self, filename: str) -> bool:
        return filename.startswith(self._skip_prefixes)

    def _on_compile(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        source, filename = args[0], str(args[1]) if len(args) > 1 else "<compile>"
        if isinstance(source, bytes):
            source = source.decode("utf-8", "replace")
        # Installed libraries and the standard library compile their own code all the time.
        if not isinstance(source, str) or self._ours(os.path.abspath(filename)):
            return Facts(), Origin.STATIC
        return python_facts(source, Location(filename, 1), budget=self._budget), Origin.STATIC

    def _on_exec(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        """Code objects that were never compiled from source here (``marshal``-loaded,
        ``.pyc`` payloads): the strings they carry."""
        code = args[0]
        if not isinstance(code, types.CodeType) or self._ours(code.co_filename):
            return Facts(), Origin.STATIC
        strings: list[str] = []
        stack = [code]
        while stack and len(strings) < 10_000:
            current = stack.pop()
            for const in current.co_consts:
                if isinstance(const, str):
                    strings.append(const)
                elif isinstance(const, types.CodeType):
                    stack.append(const)
        if not strings:
            return Facts(), Origin.STATIC
        text = "\n".join(strings)
        return Facts(
            fragments=[Fragment(text, Location(code.co_filename), "python")]
        ), Origin.STATIC

    def _on_import(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        facts = Facts()
        facts.imports.append((str(args[0]), Location("<import>"), ()))
        return facts, Origin.RUNTIME

    def _argv(self, raw: object) -> tuple[str, ...]:
        if isinstance(raw, str | bytes | os.PathLike):
            return (os.fsdecode(raw),)
        if isinstance(raw, list | tuple):
            return tuple(os.fsdecode(a) for a in raw if isinstance(a, str | bytes | os.PathLike))
        return ()

    def _command(self, argv: tuple[str, ...]) -> tuple[Facts, Origin]:
        if len(argv) == 1 and " " in argv[0]:  # a shell string (shell=True)
            return self._shell(argv[0])
        return self.scanner.command_facts(argv, "<spawn>", Origin.RUNTIME), Origin.RUNTIME

    def _shell(self, text: str) -> tuple[Facts, Origin]:
        loc = Location("<spawn>", 1)
        facts = shell_facts(text, loc, budget=self._budget, origin=Origin.RUNTIME, kind="command")
        return facts, Origin.RUNTIME

    def _on_popen(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        return self._command(self._argv(args[1] if len(args) > 1 else args[0]))

    def _on_system(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        return self._shell(os.fsdecode(args[0]))  # type: ignore[arg-type]

    def _on_os_exec(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        return self._command(self._argv(args[1]))

    def _on_spawn(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        return self._command(self._argv(args[2]))

    def _on_url(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        facts = Facts(
            fragments=[Fragment(str(args[0]), Location("<url>"), "command", (), Origin.RUNTIME)]
        )
        return facts, Origin.RUNTIME

    def _on_open(self, args: tuple[object, ...]) -> tuple[Facts, Origin]:
        raw = args[0]
        if not isinstance(raw, str | bytes | os.PathLike):
            return Facts(), Origin.RUNTIME  # a file descriptor
        path = os.path.abspath(os.fsdecode(raw))
        if self._ours(path):
            return Facts(), Origin.RUNTIME
        facts = Facts(files=[(path.replace(os.sep, "/"), Location(path))])
        if not path.lower().endswith(_MODEL_SUFFIXES):
            return facts, Origin.RUNTIME
        try:
            st = os.stat(path)
        except OSError:
            return facts, Origin.RUNTIME
        if st.st_size < self.scanner.settings.codescan_guard_min_file_bytes:
            return facts, Origin.RUNTIME
        key = (path, st.st_size, st.st_mtime)
        if key not in self._seen_files:
            reader = self.scanner.reader()
            reader.add_path(Path(path))
            for unit in reader.units:
                facts.extend(unit.facts)
            self._seen_files[key] = []
        return facts, Origin.RUNTIME


def install(scanner: Scanner | None = None) -> Guard:
    """Install the guard in this process once (later calls return the same guard)."""
    global _installed  # noqa: PLW0603 - one hook per process, by design of audit hooks
    if _installed is None:
        _installed = Guard(scanner)
        _installed.install()
    return _installed


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext shieldwall.guard`` in a notebook kernel: install the guard. Cells are
    compiled, ``!`` lines spawned and URLs fetched through the hooked paths."""
    install()
