"""The trusted side of the sandbox: start a zygote, run one child per submission, talk to it.

`Sandbox` owns one zygote (one per grading worker). `Sandbox.open(source,
module)` forks a child that imports the submission and returns a
`SubmissionProcess`, whose methods are remote calls. Everything that comes
back is plain data: numbers, strings and tensors decoded from safetensors.

A call that outlives its wall-clock limit kills the child (`CallTimeout`); a
child that dies mid-call raises `ChildDied`; an exception inside the
submission raises `SubmissionRaised` carrying the type, message and line. The
zygote survives all of these; if it ever dies it is started again.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import SandboxError
from . import cputime, launcher, wire
from .launcher import Limits


class SubmissionFault(Exception):
    """Something the submission did (not the grader) stopped a call."""


class SubmissionRaised(SubmissionFault):
    """The submission's code raised an exception."""

    def __init__(self, type_name: str, message: str, where: str = "", traceback: str = ""):
        self.type_name, self.message, self.where, self.traceback = type_name, message, where, traceback
        at = f" at {where}" if where else ""
        super().__init__(f"{type_name}{at}: {message}")


class CallTimeout(SubmissionFault):
    """A call ran past its wall-clock limit; the child was killed."""


class ChildDied(SubmissionFault):
    """The child process ended during a call (os._exit, a crash, a memory or CPU limit)."""


class ProtocolViolation(SubmissionFault):
    """The child sent something that is not a valid reply."""


class ResourceLimit(SubmissionFault):
    """The submission hit a resource limit: memory, CPU time, file size or its working folder's size."""


class Tampering(SubmissionFault):
    """The child's report about itself contradicts what the grader can verify (see docs/security.md)."""


LIMIT_WORDS = {
    "memory": "the submission ran out of memory (its limit is {mem_mb} MiB): look for a tensor far larger "
              "than the inputs, or one that grows in a loop",
    "disk": "the submission filled its working folder or wrote a file past the limit ({tmp_mb} MiB in all, "
            "{fsize_mb} MiB per file): do not write files",
    "cpu": "the submission used up its CPU time ({cpu_s} s for all checks): look for an infinite loop",
    "fsize": "the submission wrote a file larger than {fsize_mb} MiB: do not write files",
}


@dataclass
class CallResult:
    """What one remote call returned."""

    value: Any
    seconds: float = 0.0  # as the child measured it (the child could lie)
    n_ops: int | None = None  # tensor operations at the Python dispatch key, as the child counted them
    profiled_ops: int | None = None  # tensor operations seen by torch's C++ profiler, as the child counted them
    cpu_ns: int | None = None  # CPU time of the call, read by the grader from the kernel (the child cannot lie)
    input_grads: list = field(default_factory=list)
    param_grads: dict = field(default_factory=dict)
    ref: wire.Ref | None = None


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:120]}"


def _count(v) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**12 else None


def _float(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


class SubmissionProcess:
    """A sandboxed child that imported one submission. Methods are remote calls."""

    def __init__(self, sandbox: "Sandbox", sock: socket.socket, module: str):
        self._sandbox = sandbox
        self._sock = sock
        self.module = module
        self.alive = True
        self.exit_status: dict | None = None
        self.import_seconds = 0.0

    # -- transport ---------------------------------------------------------
    def _request(self, header: dict, tensors: dict | None = None, timeout: float = 30.0):
        if not self.alive:
            raise ChildDied(self._death_message())
        try:
            self._sock.settimeout(timeout)
            wire.send_frame(self._sock, header, tensors)
            reply, out_tensors = wire.recv_frame(self._sock)
        except (socket.timeout, TimeoutError):
            self._end(kill=True)
            raise CallTimeout(f"did not finish within {timeout:g} s (wall clock); the process was stopped")
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            self._end(kill=True)
            raise self._died()
        except Exception as exc:  # WireError, or anything a malformed reply makes the decoder raise
            self._end(kill=True)
            raise ProtocolViolation(f"the submission's process sent an invalid reply ({_short(exc)}); it was "
                                    "stopped") from None
        if not reply.get("ok"):
            raise self._sandbox._raised(reply.get("error"), self)
        return reply, out_tensors

    def _died(self) -> SubmissionFault:
        message = self._death_message()
        st = self.exit_status or {}
        if st.get("signal") in (24, 25):  # SIGXCPU, SIGXFSZ
            return ResourceLimit(message)
        return ChildDied(message)

    def _death_message(self) -> str:
        st = self.exit_status or {}
        if st.get("signal") == 9:
            return ("the submission's process was killed (signal 9): it ran out of memory "
                    "or CPU time, or was stopped")
        if st.get("signal") == 24:
            return self._sandbox._limit_words("cpu")
        if st.get("signal") == 25:
            return self._sandbox._limit_words("fsize")
        if st.get("signal"):
            return f"the submission's process was killed by signal {st['signal']}"
        if st.get("exit_code") is not None:
            return (f"the submission's process exited (exit code {st['exit_code']}) in the middle "
                    "of a call: do not call exit() or os._exit() in your code")
        return "the submission's process ended unexpectedly"

    def _end(self, kill: bool) -> None:
        if not self.alive:
            return
        self.alive = False
        try:
            self._sock.close()
        except OSError:
            pass
        self.exit_status = self._sandbox._reap(kill=kill)

    # -- operations --------------------------------------------------------
    def new(self, name: str, *args, dtype: torch.dtype | None = None, timeout: float = 30.0,
            **kwargs) -> wire.Ref:
        """Construct `module.<name>(*args, **kwargs)` in the child (optionally `.to(dtype)`)."""
        enc = wire.Encoder(copy=False)
        header = {"op": "new", "name": name, "args": enc.encode(list(args)),
                  "kwargs": [[k, enc.encode(v)] for k, v in kwargs.items()],
                  "dtype": wire.dtype_name(dtype) if dtype else None}
        reply, _ = self._request(header, enc.tensors, timeout)
        return wire.Ref(int(reply["ref"]))

    def load_state_dict(self, ref: wire.Ref, state: dict[str, torch.Tensor], strict: bool = True,
                        timeout: float = 30.0) -> dict:
        tensors = dict(state)  # packed into bytes at once: the frame is the copy
        reply, _ = self._request({"op": "load_state_dict", "ref": ref.id, "strict": strict}, tensors,
                                 timeout)
        return {"missing": list(reply.get("missing", [])), "unexpected": list(reply.get("unexpected", []))}

    def parameters(self, ref: wire.Ref, timeout: float = 30.0) -> list[tuple[str, tuple, str]]:
        reply, _ = self._request({"op": "parameters", "ref": ref.id}, None, timeout)
        return [(str(n), tuple(int(x) for x in s), str(d)) for n, s, d in reply["parameters"]]

    def set_mode(self, ref: wire.Ref, train: bool, timeout: float = 30.0) -> None:
        self._request({"op": "set_mode", "ref": ref.id, "train": bool(train)}, None, timeout)

    def call(self, target: wire.Ref | str, *args, method: str = "__call__", grad: bool = False,
             backward: Any = None, count_ops: bool = False, measure_cpu: bool = False, keep: bool = False,
             timeout: float = 30.0, **kwargs) -> CallResult:
        """Call a module (a Ref from `new`), one of its methods, or a module-level function by name.

        Arguments wrapped in `wire.GradInput` are sent with requires_grad; with
        `backward` (grads shaped like the output), the child back-propagates
        sum(output * grad) and returns input and parameter gradients. `count_ops`
        asks the child to count the call's tensor operations; `measure_cpu` has the
        grader read the CPU time of the submission's processes before and after the
        call, from the host's /proc (a walk over every process: only when asked).
        """
        enc = wire.Encoder(copy=False)
        if isinstance(target, str):
            tgt, attr = None, target
        else:
            tgt, attr = target.id, method
        nonce = secrets.token_hex(8) if count_ops else None
        header = {"op": "call", "target": tgt, "attr": attr, "args": enc.encode(list(args)),
                  "kwargs": [[k, enc.encode(v)] for k, v in kwargs.items()], "grad": grad,
                  "count_ops": count_ops, "nonce": nonce, "keep": keep,
                  "backward": enc.encode(backward) if backward is not None else None}
        cpu_before = self._sandbox.submission_cpu_ns() if measure_cpu else None
        reply, tensors = self._request(header, enc.tensors, timeout)
        cpu_after = self._sandbox.submission_cpu_ns() if measure_cpu else None
        try:
            value = wire.decode(reply.get("value"), tensors)
            in_grads = wire.decode(reply.get("input_grads", []), tensors)
            p_grads = wire.decode(reply.get("param_grads", {"$dict": []}), tensors)
            n_ops = profiled = None
            if count_ops:
                counts = reply.get("counts")
                if not isinstance(counts, dict):
                    raise Tampering("the operation counts of a counted call are missing from the reply")
                problems = counts.get("problems") or []
                if not isinstance(problems, list) or problems:
                    raise Tampering("; ".join(str(p)[:200] for p in problems[:3]) if isinstance(problems, list)
                                    else "the operation counts are malformed")
                n_ops, profiled = _count(counts.get("dispatch")), _count(counts.get("profiler"))
                if n_ops is None or profiled is None:
                    raise Tampering("the operation counts of a counted call are malformed")
            return CallResult(
                value=value, seconds=_float(reply.get("seconds", 0.0)), n_ops=n_ops, profiled_ops=profiled,
                cpu_ns=(cpu_after - cpu_before) if cpu_before is not None and cpu_after is not None else None,
                input_grads=list(in_grads) if isinstance(in_grads, list) else [],
                param_grads=dict(p_grads) if isinstance(p_grads, dict) else {},
                ref=wire.Ref(int(reply["ref"])) if reply.get("ref") is not None else None,
            )
        except Tampering:
            self._end(kill=True)
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a malformed reply makes decoding raise
            self._end(kill=True)
            raise ProtocolViolation(f"the submission's process sent an invalid reply ({_short(exc)}); it was "
                                    "stopped") from None

    def output(self, limit: int = 20000) -> str:
        """What the submission printed so far (truncated)."""
        reply, _ = self._request({"op": "output", "limit": limit}, None, 10.0)
        text = reply.get("text", "")
        return text[:limit] if isinstance(text, str) else ""

    def close(self) -> None:
        """Ask the child to exit and reap it (kill it if it does not)."""
        if not self.alive:
            return
        try:
            self._sock.settimeout(2.0)
            wire.send_frame(self._sock, {"op": "exit"})
            wire.recv_frame(self._sock)
            kill = False
        except Exception:
            kill = True
        self._end(kill=kill)

    def __enter__(self) -> "SubmissionProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Sandbox:
    """One zygote process; `open()` forks a sandboxed child per submission."""

    def __init__(self, policy: str = "bwrap", limits: Limits = Limits(), start_timeout: float = 120.0):
        self.policy = launcher.resolve_policy(policy)
        self.limits = limits
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self.info: dict = {}
        self.restarts = 0
        self._ready = False
        self._zygote_pid: int | None = None  # the zygote's pid on the host (for CPU accounting)

    # -- zygote lifecycle --------------------------------------------------
    def start(self) -> None:
        """Start the zygote and wait until it is ready."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the zygote without waiting: its torch import overlaps whatever the caller does next."""
        self.adopt(launcher.launch(self.policy, self.limits))

    def adopt(self, launched: launcher.Launched) -> None:
        """Use a zygote started earlier by `launcher.launch` (with this sandbox's policy)."""
        self._proc, self._ctl, self._ready = launched.proc, launched.control, False
        self._zygote_pid = None

    def wait_ready(self) -> None:
        if self._ready:
            return
        parent = self._ctl
        try:
            parent.settimeout(self.start_timeout)
            self.info, _ = wire.recv_frame(parent)
        except Exception as exc:
            err = b""
            try:
                self._proc.kill()
                err = self._proc.communicate(timeout=5)[1] or b""
            except Exception:
                pass
            raise SandboxError(
                f"the sandbox did not start: {exc}. Its last words: "
                f"{err.decode('utf-8', 'replace')[-1500:] or '(none)'}"
            ) from exc
        # The zygote writes nothing to stderr after start-up; do not leave a pipe to fill.
        if self._proc.stderr:
            self._proc.stderr.close()
        self._ready = True
        inner = self.info.get("pid")
        if self.policy == "none" or not isinstance(inner, int):
            self._zygote_pid = self._proc.pid
        else:
            # the zygote inside bubblewrap's PID namespace; else the whole tree under bubblewrap (the zygote and
            # bubblewrap's own init are idle during a call, so the measurement is the child's all the same)
            self._zygote_pid = cputime.find_in_namespace(self._proc.pid, inner) or self._proc.pid

    def submission_cpu_ns(self) -> int | None:
        """CPU time so far of every process below the zygote (the submission's), from the kernel."""
        if self._zygote_pid is None:
            return None
        return cputime.tree_cpu_ns(self._zygote_pid)

    def _limit_words(self, which: str) -> str:
        return LIMIT_WORDS[which].format(**self.limits.as_dict())

    def _raised(self, err, proc: "SubmissionProcess | None" = None) -> SubmissionFault:
        """The exception for an error reply from the child (its fields are the submission's text)."""
        if not isinstance(err, dict):
            if proc is not None:
                proc._end(kill=True)
            return ProtocolViolation("the submission's process sent an invalid error reply; it was stopped")
        limit = err.get("limit")
        raised = SubmissionRaised(str(err.get("type", "Error"))[:200], str(err.get("message", ""))[:2000],
                                  str(err.get("where", ""))[:300], str(err.get("traceback", ""))[:4000])
        if limit in ("memory", "disk"):
            return ResourceLimit(f"{self._limit_words(limit)} ({raised})")
        return raised

    def _ensure(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self.restarts += 1
            self.start()
        else:
            self.wait_ready()

    def _control(self, header: dict, fds: list[int] | None = None, timeout: float = 30.0) -> dict:
        assert self._ctl is not None
        self._ctl.settimeout(timeout)
        data = wire.pack(header)
        if fds:
            socket.send_fds(self._ctl, [data], fds)
        else:
            self._ctl.sendall(data)
        reply, _ = wire.recv_frame(self._ctl)
        return reply

    def open(self, source: str, module: str, import_timeout: float = 30.0) -> SubmissionProcess:
        """Fork a child that imports `source` as `module`; raises if the import fails.

        The zygote is only told to fork; the source goes to the child over the
        child's own socket, so the zygote (and every later child) never holds it.
        """
        for attempt in range(2):
            self._ensure()
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                reply = self._control({"op": "spawn", "module": module, "limits": self.limits.as_dict()},
                                      [theirs.fileno()])
                if not reply.get("ok"):
                    raise wire.WireError(f"the zygote refused to fork: {str(reply.get('error'))[:200]}")
                break
            except (OSError, EOFError, wire.WireError):
                mine.close()
                self._kill_zygote()
                if attempt:
                    raise SandboxError("the sandbox's zygote stopped answering twice in a row")
            finally:
                theirs.close()
        proc = SubmissionProcess(self, mine, module)
        try:
            mine.settimeout(import_timeout)
            wire.send_frame(mine, {"op": "source", "source": source})
            reply, _ = wire.recv_frame(mine)
        except (socket.timeout, TimeoutError):
            proc._end(kill=True)
            raise CallTimeout(f"importing {module}.py did not finish within {import_timeout:g} s")
        except (EOFError, OSError):
            proc._end(kill=True)
            died = proc._died()
            raise type(died)(f"{died} while importing {module}.py") from None
        except Exception as exc:  # WireError, or anything a malformed reply makes the decoder raise
            proc._end(kill=True)
            raise ProtocolViolation(f"the submission's process sent an invalid reply while importing "
                                    f"{module}.py ({_short(exc)}); it was stopped") from None
        if not reply.get("ok"):
            proc._end(kill=True)
            raise self._raised(reply.get("error"))
        proc.import_seconds = _float(reply.get("import_seconds", 0.0))
        return proc

    def _reap(self, kill: bool) -> dict:
        try:
            return self._control({"op": "reap", "kill": kill, "wait_s": 2.0}, timeout=15.0)
        except Exception:
            self._kill_zygote()
            return {"exit_code": None, "signal": None}

    def _kill_zygote(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                self._proc.kill()
            self._proc.wait()
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None

    def close(self) -> None:
        """Stop the zygote. It holds nothing worth a clean exit, so it is killed at once."""
        self._kill_zygote()
        self._proc = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
