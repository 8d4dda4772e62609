"""The sandbox side: a zygote that imports torch once and forks one child per submission.

Run as ``python harness.py CONTROL_FD`` inside the sandbox. The zygote speaks
to the trusted grader over the control socket only; each child gets its own
socket (passed by the grader with SCM_RIGHTS) and never sees the control one,
so a hostile child cannot impersonate the zygote to later submissions.

Child set-up, before the submission is imported: its own session, a private
temporary folder, stdout/stderr into a capped file, resource limits (address
space, CPU seconds, processes, file size, no core dumps), no new privileges,
and, when the zygote is root, an unprivileged uid/gid (its own per sandbox
under bubblewrap, so process limits are not shared; ``nobody`` otherwise).
The zygote is a child subreaper: after a child ends it kills every process
below itself (daemons and fork bombs included, and nothing else) and removes
the folder.

Imports nothing from seqgrade: only this folder (``wire``), torch, safetensors.
"""

from __future__ import annotations

import array
import ctypes
import os
import resource
import shutil
import signal
import socket
import sys
import time
import traceback
import types

import torch
import torch.nn.functional  # noqa: F401  (warm the import for every child)
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I leaves it out
import wire  # noqa: E402

NOBODY = 65534
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_libc = ctypes.CDLL(None, use_errno=True)


class _CountOps(TorchDispatchMode):
    """Counts the aten operations executed (the parallelism checks use it)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


# Captured before any submission runs, so monkeypatching torch cannot reach them.
_Tensor = torch.Tensor
_Module = torch.nn.Module
_enable_grad = torch.enable_grad
_no_grad = torch.no_grad
_backward = torch.autograd.backward
_perf = time.perf_counter


# --------------------------------------------------------------------------- child
class ChildServer:
    """Serves the grader's requests on one submission, inside the child process."""

    def __init__(self, sock: socket.socket, module: types.ModuleType, filename: str):
        self.sock = sock
        self.module = module
        self.filename = filename
        self.objects: dict[int, object] = {}
        self.next_id = 1

    # -- plumbing ----------------------------------------------------------
    def _resolve(self, ref: wire.Ref):
        try:
            obj = self.objects[ref.id]
        except KeyError:
            raise LookupError(f"unknown handle {ref.id}") from None
        for key in ref.path:
            obj = obj[key]
        return obj

    def _keep(self, obj) -> int:
        i = self.next_id
        self.next_id += 1
        self.objects[i] = obj
        return i

    def _decode_args(self, obj, tensors, grad_inputs: list):
        value = wire.decode(obj, tensors, self._resolve)
        return self._materialize(value, grad_inputs)

    def _materialize(self, v, grad_inputs):
        if isinstance(v, wire.GradInput):
            t = v.tensor.clone().requires_grad_(True)
            grad_inputs.append(t)
            return t
        if isinstance(v, tuple):
            return tuple(self._materialize(x, grad_inputs) for x in v)
        if isinstance(v, list):
            return [self._materialize(x, grad_inputs) for x in v]
        if isinstance(v, dict):
            return {k: self._materialize(x, grad_inputs) for k, x in v.items()}
        return v

    # -- operations --------------------------------------------------------
    def op_new(self, req, tensors):
        cls = getattr(self.module, req["name"])
        args = self._decode_args(req.get("args", []), tensors, [])
        kwargs = self._decode_args({"$dict": req.get("kwargs", [])}, tensors, [])
        obj = cls(*args, **kwargs)
        if req.get("dtype"):
            obj = obj.to(wire.dtype_from_name(req["dtype"]))
        return {"ref": self._keep(obj)}, None

    def op_load_state_dict(self, req, tensors):
        mod = self._resolve(wire.Ref(req["ref"]))
        result = mod.load_state_dict(tensors, strict=bool(req.get("strict", True)))
        return {"missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys)}, None

    def op_parameters(self, req, tensors):
        mod = self._resolve(wire.Ref(req["ref"]))
        params = [[n, list(p.shape), str(p.dtype).replace("torch.", "")] for n, p in mod.named_parameters()]
        return {"parameters": params}, None

    def op_set_mode(self, req, tensors):
        mod = self._resolve(wire.Ref(req["ref"]))
        mod.train(bool(req["train"]))
        return {}, None

    def op_call(self, req, tensors):
        grad_inputs: list = []
        args = self._decode_args(req.get("args", []), tensors, grad_inputs)
        kwargs = self._decode_args({"$dict": req.get("kwargs", [])}, tensors, grad_inputs)
        target = req.get("target")
        attr = req.get("attr", "__call__")
        if target is None:
            fn = getattr(self.module, attr)
            owner = None
        else:
            owner = self._resolve(wire.Ref(target))
            fn = owner if attr == "__call__" else getattr(owner, attr)
        if isinstance(owner, _Module):
            for p in owner.parameters():
                p.grad = None
        backward = req.get("backward")
        grad_mode = _enable_grad() if (req.get("grad") or backward is not None) else _no_grad()
        counter = _CountOps() if req.get("count_ops") else None
        start = _perf()
        with grad_mode:
            if counter is not None:
                with counter:
                    out = fn(*args, **kwargs)
            else:
                out = fn(*args, **kwargs)
        seconds = _perf() - start
        reply: dict = {"seconds": seconds}
        if counter is not None:
            reply["n_ops"] = counter.count
        if backward is not None:
            grads = wire.decode(backward, tensors)
            pairs = list(_pairs(out, grads))
            outs = [o for o, g in pairs if o.requires_grad]
            if not outs:
                raise RuntimeError(
                    "no output requires grad: the outputs are cut off from the inputs and "
                    "parameters (look for .detach(), .data, torch.no_grad() or a new tensor "
                    "built from .tolist()/.item())"
                )
            _backward(outs, [g.to(o.dtype) for o, g in pairs if o.requires_grad])
            reply["input_grads_"] = [t.grad for t in grad_inputs]
            if isinstance(owner, _Module):
                reply["param_grads_"] = {n: p.grad for n, p in owner.named_parameters()}
        if req.get("keep"):
            reply["ref"] = self._keep(out)
        reply["value_"] = out
        return reply, None

    def op_release(self, req, tensors):
        for i in req.get("refs", []):
            self.objects.pop(int(i), None)
        return {}, None

    def op_output(self, req, tensors):
        sys.stdout.flush()
        sys.stderr.flush()
        limit = int(req.get("limit", 20000))
        size = 0
        try:
            with open("output.txt", "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                text = f.read(limit).decode("utf-8", "replace")
        except OSError:
            text = ""
        if size > limit:
            text = f"[... {size - limit} bytes cut ...]\n" + text
        return {"text": text}, None

    # -- loop --------------------------------------------------------------
    def serve(self) -> None:
        while True:
            try:
                req, tensors = wire.recv_frame(self.sock)
            except (EOFError, OSError, wire.WireError):
                return
            op = req.get("op")
            if op == "exit":
                wire.send_frame(self.sock, {"ok": True})
                return
            handler = getattr(self, f"op_{op}", None)
            try:
                if handler is None:
                    raise LookupError(f"unknown operation {op!r}")
                reply, _ = handler(req, tensors)
                enc = wire.Encoder()
                out = {}
                for k, v in reply.items():
                    if k.endswith("_"):
                        out[k[:-1]] = enc.encode(v)
                    else:
                        out[k] = v
                out["ok"] = True
                wire.send_frame(self.sock, out, enc.tensors)
            except BaseException as exc:  # the submission's exceptions, SystemExit included
                wire.send_frame(self.sock, {"ok": False, "error": self._describe(exc)})

    def _describe(self, exc: BaseException) -> dict:
        frames = traceback.extract_tb(exc.__traceback__)
        mine = [f for f in frames if f.filename == self.filename]
        where = ""
        if mine:
            f = mine[-1]
            where = f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"
        elif isinstance(exc, SyntaxError) and exc.lineno:
            where = f"{os.path.basename(self.filename)}:{exc.lineno}"
        tb = "".join(traceback.format_list(mine[-5:]))
        try:
            message = str(exc)
        except BaseException:
            message = "<unprintable>"
        return {"type": type(exc).__name__, "message": message[:2000], "where": where, "traceback": tb[-4000:]}


def _pairs(out, grads):
    """(output tensor, its grad) for every tensor in `out` that has a grad in `grads`."""
    if isinstance(grads, torch.Tensor):
        if isinstance(out, torch.Tensor):
            yield out, grads
        return
    if isinstance(grads, (list, tuple)) and isinstance(out, (list, tuple)):
        for o, g in zip(out, grads):
            yield from _pairs(o, g)


# --------------------------------------------------------------------------- zygote
def _set_limits(limits: dict) -> None:
    def lim(which, soft, hard=None):
        hard = soft if hard is None else hard
        try:
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):
            pass

    lim(resource.RLIMIT_CORE, 0)
    if limits.get("cpu_s"):
        lim(resource.RLIMIT_CPU, int(limits["cpu_s"]), int(limits["cpu_s"]) + 2)
    if limits.get("mem_mb"):
        with open("/proc/self/status") as f:
            vm = next((int(l.split()[1]) for l in f if l.startswith("VmSize:")), 0) * 1024
        lim(resource.RLIMIT_AS, vm + int(limits["mem_mb"]) * 1024 * 1024)
    if limits.get("fsize_mb"):
        lim(resource.RLIMIT_FSIZE, int(limits["fsize_mb"]) * 1024 * 1024)
    if limits.get("nproc"):
        lim(resource.RLIMIT_NPROC, int(limits["nproc"]))


def _child_main(sock: socket.socket, req: dict, workdir: str, drop_to: int | None) -> None:
    """Runs in the forked child: confine itself, import the submission, serve."""
    os.setsid()
    os.chdir(workdir)
    filename = os.path.join(workdir, req["module"] + ".py")
    with open(filename, "w", encoding="utf-8") as f:
        f.write(req["source"])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    out = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(devnull)
    if drop_to is not None:
        os.chown(workdir, drop_to, drop_to)
        os.chown(filename, drop_to, drop_to)
        os.chown("output.txt", drop_to, drop_to)
    _set_limits(req.get("limits", {}))
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if drop_to is not None:
        os.setgroups([])
        os.setgid(drop_to)
        os.setuid(drop_to)
    os.environ.clear()
    os.environ.update({"HOME": workdir, "TMPDIR": workdir, "PATH": "/usr/bin:/bin",
                       "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"})
    sys.path.insert(0, workdir)
    sys.argv = [filename]
    server = ChildServer(sock, None, filename)  # module set after import
    try:
        import importlib.util

        spec = importlib.util.spec_from_file_location(req["module"], filename)
        module = importlib.util.module_from_spec(spec)
        sys.modules[req["module"]] = module
        start = _perf()
        spec.loader.exec_module(module)
        server.module = module
        wire.send_frame(sock, {"ok": True, "import_seconds": _perf() - start})
    except BaseException as exc:
        wire.send_frame(sock, {"ok": False, "error": server._describe(exc)})
        return
    server.serve()


def _descendants(root: int) -> list[int]:
    """Every process below `root` (orphans are re-parented to it: it is a child subreaper)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for pid in children.get(todo.pop(), []):
            found.append(pid)
            todo.append(pid)
    return found


def _kill_leftovers() -> int:
    """Kill every process a child left behind (daemons, fork bombs): only this zygote's descendants.

    Returns how many there were.
    """
    seen: set[int] = set()
    for _ in range(50):
        pids = _descendants(os.getpid())
        if not pids:
            break
        seen.update(pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap_all()
        time.sleep(0.002)
    return len(seen)


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def zygote(control_fd: int, sandbox_uid: int = NOBODY) -> None:
    torch.set_num_threads(1)
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans of a child come back to us, to be killed
    # Warm the code paths every child uses, so forks start hot.
    a = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    (a @ a).softmax(-1).tanh().sum().backward()
    with _CountOps():
        torch.ones(2) + 1
    wire.pack({"warm": True}, {"x": torch.zeros(1)})
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    ctl = socket.socket(fileno=control_fd)
    drop_to = sandbox_uid if os.geteuid() == 0 else None
    base = os.environ.get("SEQGRADE_SANDBOX_TMP", "/tmp")
    wire.send_frame(ctl, {"ok": True, "pid": os.getpid(), "uid": os.geteuid(), "torch": torch.__version__})
    child = None
    workdir = None
    counter = 0
    while True:
        try:
            msg, fds = _recv_with_fds(ctl)
        except (EOFError, OSError):
            break
        op = msg.get("op")
        if op == "spawn":
            counter += 1
            workdir = os.path.join(base, f"sub-{os.getpid()}-{counter}")
            os.mkdir(workdir, 0o700)
            pid = os.fork()
            if pid == 0:  # the child
                try:
                    ctl.close()
                    _child_main(socket.socket(fileno=fds[0]), msg, workdir, drop_to)
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)
            child = pid
            wire.send_frame(ctl, {"ok": True, "pid": pid})
        elif op == "reap":
            status = _reap(child, kill=bool(msg.get("kill")), wait_s=float(msg.get("wait_s", 2.0)))
            status["leftovers"] = _kill_leftovers()
            _reap_all()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            child, workdir = None, None
            wire.send_frame(ctl, {"ok": True, **status})
        elif op == "ping":
            wire.send_frame(ctl, {"ok": True})
        else:
            wire.send_frame(ctl, {"ok": False, "error": f"unknown zygote operation {op!r}"})


def _reap(pid: int | None, kill: bool, wait_s: float) -> dict:
    if pid is None:
        return {"exit_code": None, "signal": None}
    if kill:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.002)
    if os.WIFSIGNALED(status):
        return {"exit_code": None, "signal": os.WTERMSIG(status)}
    return {"exit_code": os.WEXITSTATUS(status), "signal": None}


def _recv_with_fds(sock: socket.socket) -> tuple[dict, list[int]]:
    """A control frame, with the file descriptors sent alongside its first bytes."""
    head, fds, _, _ = socket.recv_fds(sock, wire.HEADER_SIZE, 4)
    if not head:
        raise EOFError("control socket closed")
    if len(head) < wire.HEADER_SIZE:
        head += wire.recv_exact(sock, wire.HEADER_SIZE - len(head))
    n_json, n_blob = wire.unpack_header(head)
    data = wire.recv_exact(sock, n_json)
    blob = wire.recv_exact(sock, n_blob) if n_blob else b""
    msg, _ = wire.unpack_body(data, blob)
    return msg, list(fds)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    zygote(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else NOBODY)
