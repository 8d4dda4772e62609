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
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import SandboxError
from . import launcher, wire
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


@dataclass
class CallResult:
    """What one remote call returned."""

    value: Any
    seconds: float = 0.0
    n_ops: int | None = None
    input_grads: list = field(default_factory=list)
    param_grads: dict = field(default_factory=dict)
    ref: wire.Ref | None = None


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
            raise ChildDied(self._death_message())
        except wire.WireError as exc:
            self._end(kill=True)
            raise ProtocolViolation(f"the submission's process sent an invalid reply ({exc})")
        if not reply.get("ok"):
            err = reply.get("error") or {}
            if not isinstance(err, dict):
                raise ProtocolViolation("the submission's process sent an invalid error reply")
            raise SubmissionRaised(str(err.get("type", "Error")), str(err.get("message", "")),
                                   str(err.get("where", "")), str(err.get("traceback", "")))
        return reply, out_tensors

    def _death_message(self) -> str:
        st = self.exit_status or {}
        if st.get("signal") == 9:
            return ("the submission's process was killed (signal 9): it ran out of memory "
                    "or CPU time, or was stopped")
        if st.get("signal") == 24:
            return "the submission's process used up its CPU time"
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
        enc = wire.Encoder()
        header = {"op": "new", "name": name, "args": enc.encode(list(args)),
                  "kwargs": [[k, enc.encode(v)] for k, v in kwargs.items()],
                  "dtype": wire.dtype_name(dtype) if dtype else None}
        reply, _ = self._request(header, enc.tensors, timeout)
        return wire.Ref(int(reply["ref"]))

    def load_state_dict(self, ref: wire.Ref, state: dict[str, torch.Tensor], strict: bool = True,
                        timeout: float = 30.0) -> dict:
        tensors = {k: v.detach().contiguous().clone() for k, v in state.items()}
        reply, _ = self._request({"op": "load_state_dict", "ref": ref.id, "strict": strict}, tensors,
                                 timeout)
        return {"missing": list(reply.get("missing", [])), "unexpected": list(reply.get("unexpected", []))}

    def parameters(self, ref: wire.Ref, timeout: float = 30.0) -> list[tuple[str, tuple, str]]:
        reply, _ = self._request({"op": "parameters", "ref": ref.id}, None, timeout)
        return [(str(n), tuple(int(x) for x in s), str(d)) for n, s, d in reply["parameters"]]

    def set_mode(self, ref: wire.Ref, train: bool, timeout: float = 30.0) -> None:
        self._request({"op": "set_mode", "ref": ref.id, "train": bool(train)}, None, timeout)

    def call(self, target: wire.Ref | str, *args, method: str = "__call__", grad: bool = False,
             backward: Any = None, count_ops: bool = False, keep: bool = False,
             timeout: float = 30.0, **kwargs) -> CallResult:
        """Call a module (a Ref from `new`), one of its methods, or a module-level function by name.

        Arguments wrapped in `wire.GradInput` are sent with requires_grad; with
        `backward` (grads shaped like the output), the child back-propagates
        sum(output * grad) and returns input and parameter gradients.
        """
        enc = wire.Encoder()
        if isinstance(target, str):
            tgt, attr = None, target
        else:
            tgt, attr = target.id, method
        header = {"op": "call", "target": tgt, "attr": attr, "args": enc.encode(list(args)),
                  "kwargs": [[k, enc.encode(v)] for k, v in kwargs.items()], "grad": grad,
                  "count_ops": count_ops, "keep": keep,
                  "backward": enc.encode(backward) if backward is not None else None}
        reply, tensors = self._request(header, enc.tensors, timeout)
        try:
            value = wire.decode(reply.get("value"), tensors)
            in_grads = wire.decode(reply.get("input_grads", []), tensors)
            p_grads = wire.decode(reply.get("param_grads", {"$dict": []}), tensors)
            n_ops = reply.get("n_ops")
            return CallResult(
                value=value, seconds=float(reply.get("seconds", 0.0)),
                n_ops=int(n_ops) if n_ops is not None else None,
                input_grads=list(in_grads) if isinstance(in_grads, list) else [],
                param_grads=dict(p_grads) if isinstance(p_grads, dict) else {},
                ref=wire.Ref(int(reply["ref"])) if reply.get("ref") is not None else None,
            )
        except (wire.WireError, TypeError, ValueError) as exc:
            raise ProtocolViolation(f"the submission's process sent an invalid reply ({exc})")

    def output(self, limit: int = 20000) -> str:
        """What the submission printed so far (truncated)."""
        reply, _ = self._request({"op": "output", "limit": limit}, None, 10.0)
        return str(reply.get("text", ""))[:limit]

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

    def __init__(self, policy: str = "auto", limits: Limits = Limits(), start_timeout: float = 120.0):
        self.policy = launcher.resolve_policy(policy)
        self.limits = limits
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self.info: dict = {}
        self.restarts = 0
        self._ready = False

    # -- zygote lifecycle --------------------------------------------------
    def start(self) -> None:
        """Start the zygote and wait until it is ready."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the zygote without waiting: its torch import overlaps whatever the caller does next."""
        self.adopt(launcher.launch(self.policy))

    def adopt(self, launched: launcher.Launched) -> None:
        """Use a zygote started earlier by `launcher.launch` (with this sandbox's policy)."""
        self._proc, self._ctl, self._ready = launched.proc, launched.control, False

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
        """Fork a child that imports `source` as `module`; raises if the import fails."""
        for attempt in range(2):
            self._ensure()
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self._control({"op": "spawn", "source": source, "module": module,
                               "limits": self.limits.as_dict()}, [theirs.fileno()])
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
            reply, _ = wire.recv_frame(mine)
        except (socket.timeout, TimeoutError):
            proc._end(kill=True)
            raise CallTimeout(f"importing {module}.py did not finish within {import_timeout:g} s")
        except (EOFError, OSError, wire.WireError):
            proc._end(kill=True)
            raise ChildDied(proc._death_message() + f" while importing {module}.py")
        if not reply.get("ok"):
            proc._end(kill=True)
            err = reply.get("error") or {}
            raise SubmissionRaised(str(err.get("type", "Error")), str(err.get("message", "")),
                                   str(err.get("where", "")), str(err.get("traceback", "")))
        proc.import_seconds = float(reply.get("import_seconds", 0.0))
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
