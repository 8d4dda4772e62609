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

Imports nothing from seqgrade: only this folder (``wire``, ``cputime``), torch, safetensors.
"""

from __future__ import annotations

import array
import ctypes
import errno
import gc
import os
import resource
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import types

import torch
import torch.nn.functional  # noqa: F401  (warm the import for every child)
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # python -I leaves it out
import cputime  # noqa: E402
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


class _Counters:
    """Two independent counts of the tensor operations of one call, and checks that neither was bypassed.

    ``dispatch``: a TorchDispatchMode at the Python dispatch key; ``profiler``:
    torch's C++ RecordFunction callbacks (the legacy autograd profiler), which
    see every dispatcher call, also those made with Python modes disabled.
    The profiler session is opened with a marker named by a nonce the grader
    chose, so a session closed and reopened by the submission is noticed.
    Everything here runs in the child, next to the submission: a submission
    can still lie (see docs/security.md); the grader also measures the child's
    CPU time from outside.
    """

    def __init__(self, nonce: str):
        self.nonce = str(nonce)[:64]
        self.mode = _CountOps()
        self.problems: list[str] = []
        self._depth = 0

    def __enter__(self):
        _enable_profiler_legacy(_profiler_config())
        with _record_function(f"seqgrade-begin-{self.nonce}"):
            pass
        self._others = _other_threads_cpu()
        self.mode.__enter__()
        self._depth = _dispatch_depth()
        return self

    def __exit__(self, *exc):
        depth = _dispatch_depth()
        top = _dispatch_at(depth - 1) if depth else None
        intact = depth == self._depth and top is self.mode
        if intact:
            self.mode.__exit__(None, None, None)
        else:
            self.problems.append("the operation-counting mode was removed or replaced during the call")
            _clear_dispatch_modes()
        others = _other_threads_cpu()
        busy = [tid for tid, ns in others.items() if ns - self._others.get(tid, 0) > 5_000_000]
        if busy:
            self.problems.append(f"{len(busy)} other thread(s) computed during the call")
        if not _profiler_enabled():
            self.problems.append("the operation profiler was switched off during the call")
            self.profiled = None
            return False
        with _record_function(f"seqgrade-end-{self.nonce}"):
            pass
        try:
            events = _disable_profiler_legacy()
        except Exception as exc:  # noqa: BLE001 - a broken profiler session is what this looks for
            self.problems.append(f"the operation profiler was tampered with ({type(exc).__name__})")
            self.profiled = None
            return False
        names = [e.name() for thread in events for e in thread if e.kind() == "push"]
        begin, end = f"seqgrade-begin-{self.nonce}", f"seqgrade-end-{self.nonce}"
        if begin not in names or end not in names:
            self.problems.append("the operation profiler was restarted during the call")
            self.profiled = None
            return False
        inner = names[names.index(begin) + 1: names.index(end)]
        self.profiled = sum(1 for n in inner if n.startswith("aten::"))
        return False

    def report(self) -> dict:
        return {"dispatch": self.mode.count, "profiler": self.profiled, "problems": self.problems}


def _profiler_config():
    from torch.autograd import ProfilerConfig, ProfilerState

    return ProfilerConfig(ProfilerState.CPU, False, False, False, False, False,
                          torch._C._profiler._ExperimentalConfig())


def _other_threads_cpu() -> dict[int, int]:
    """CPU nanoseconds of every other thread of this process, from the kernel's accounting."""
    me = _gettid()
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        if int(tid) == me:
            continue
        try:
            with _open(f"/proc/self/task/{tid}/schedstat", "rb") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def _clear_dispatch_modes() -> None:
    while _dispatch_depth():
        torch._C._pop_torch_dispatch_stack()


# Captured before any submission runs, so monkeypatching torch cannot reach them.
_enable_profiler_legacy = torch.autograd._enable_profiler_legacy
_disable_profiler_legacy = torch.autograd._disable_profiler_legacy
_profiler_enabled = torch.autograd._profiler_enabled
_record_function = torch.autograd.profiler.record_function
_dispatch_depth = torch._C._len_torch_dispatch_stack
_dispatch_at = torch._C._get_dispatch_stack_at
_gettid = threading.get_native_id
_open = open
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
            dtype = wire.dtype_from_name(req["dtype"])
            if not _already_in(obj, dtype):
                obj = obj.to(dtype)
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
        backward = req.get("backward")
        if backward is not None and isinstance(owner, _Module):  # this call's gradients only
            for p in owner.parameters():
                p.grad = None
        grad_mode = _enable_grad() if (req.get("grad") or backward is not None) else _no_grad()
        counter = _Counters(req.get("nonce", "")) if req.get("count_ops") else None
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
            reply["counts"] = counter.report()
        if backward is not None:
            grads = wire.decode(backward, tensors)
            pairs = list(wire.output_grad_pairs(out, grads))
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
                enc = wire.Encoder(copy=False)
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
        info = {"type": type(exc).__name__, "message": message[:2000], "where": where, "traceback": tb[-4000:]}
        if isinstance(exc, MemoryError):
            info["limit"] = "memory"
        elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            info["limit"] = "disk"
        return info


def _already_in(obj, dtype) -> bool:
    """Whether ``obj.to(dtype)`` would change nothing: a plain torch module (``to`` and ``_apply`` not
    overridden anywhere in it) whose floating-point parameters and buffers all have `dtype` already.
    Such a call costs ~1 ms for a small Transformer, and checks build ~40 modules per submission."""
    if not isinstance(obj, _Module) or type(obj).to is not _Module.to:
        return False
    if torch.__future__.get_overwrite_module_params_on_conversion() or \
            torch.__future__.get_swap_module_params_on_conversion():
        return False
    for m in obj.modules():
        if type(m)._apply is not _Module._apply:
            return False
        for t in list(m._parameters.values()) + list(m._buffers.values()):
            if t is not None and (t.is_floating_point() or t.is_complex()) and t.dtype != dtype:
                return False
    return True


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
    """Runs in the forked child: confine itself, receive and import the submission, serve.

    The submission's source arrives here, on the child's own socket, after the
    fork: the zygote never holds a student's code, so no later child can find
    it in memory inherited from the zygote.
    """
    os.setsid()
    limits = req.get("limits", {})
    private = _private_workdir(workdir, int(limits.get("tmp_mb", 0) or 0), drop_to)
    os.chdir(workdir)
    sock.settimeout(60.0)
    try:
        msg, _ = wire.recv_frame(sock)
    except (EOFError, OSError, wire.WireError):
        return
    source = msg.get("source") if msg.get("op") == "source" else None
    if not isinstance(source, str):
        return
    sock.settimeout(None)
    filename = os.path.join(workdir, req["module"] + ".py")
    with open(filename, "w", encoding="utf-8") as f:
        f.write(source)
    del source, msg
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    out = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(devnull)
    if drop_to is not None:
        for path in ((workdir,) if not private else ()) + (filename, "output.txt"):
            os.chown(path, drop_to, drop_to)
    _set_limits(limits)
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


_CLONE_NEWNS, _CLONE_NEWIPC = 0x00020000, 0x08000000
_MS_NOSUID, _MS_NODEV, _MS_REC, _MS_PRIVATE = 2, 4, 16384, 1 << 18


def _private_workdir(workdir: str, tmp_mb: int, owner: int | None) -> bool:
    """Give this child its own mount and IPC namespaces and a size-limited tmpfs as its working folder.

    Needs the zygote's privileges (root inside bubblewrap). Returns False where
    they are missing: the child then works in the zygote's /tmp, whose own size
    limit (bubblewrap's ``--size``) still bounds it.
    """
    if not tmp_mb or os.geteuid() != 0:
        return False
    if _libc.unshare(_CLONE_NEWNS | _CLONE_NEWIPC) != 0:
        return False
    _libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)
    opts = f"size={tmp_mb}m,mode=0700" + (f",uid={owner},gid={owner}" if owner is not None else "")
    if _libc.mount(b"tmpfs", workdir.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, opts.encode()) != 0:
        return False
    return True


def _kill_leftovers() -> int:
    """Kill every process a child left behind (daemons, fork bombs): only this zygote's descendants.

    Returns how many there were.
    """
    seen: set[int] = set()
    for _ in range(50):
        pids = cputime.descendants(os.getpid())  # orphans come back to us: we are a child subreaper
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


UID_SPAN = 10_000  # children of one zygote take uids uid_base+1 .. uid_base+UID_SPAN-1, then wrap


def zygote(control_fd: int, uid_base: int = NOBODY) -> None:
    torch.set_num_threads(1)
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)  # orphans of a child come back to us, to be killed
    # Warm the code paths every child uses, so forks start hot.
    a = torch.randn(4, 4, dtype=torch.float64, requires_grad=True)
    (a @ a).softmax(-1).tanh().sum().backward()
    with _Counters("warm"):
        torch.ones(2) + 1
    wire.pack({"warm": True}, {"x": torch.zeros(1)})
    # Everything allocated so far (torch, the warm-up) goes to the permanent generation: a child's garbage
    # collections then never walk it, so they write into none of its pages (each such write copies a page
    # after fork; a full collection in a fresh child cost ~5 ms of those, depending on where the zygote's
    # allocation counters stood). No gc.collect() first: it costs ~56 ms of start-up and finds ~40 objects.
    gc.freeze()
    _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    ctl = socket.socket(fileno=control_fd)
    root = os.geteuid() == 0
    base = os.environ.get("SEQGRADE_SANDBOX_TMP", "/tmp")
    wire.send_frame(ctl, {"ok": True, "pid": os.getpid(), "uid": os.geteuid(), "torch": torch.__version__})
    child = None
    workdir = None
    counter = 0
    while True:
        try:
            msg, fds = _recv_with_fds(ctl)
        except (EOFError, OSError, wire.WireError):
            break
        op = msg.get("op")
        if op == "spawn":
            # Nothing of an earlier child may outlive it: kill whatever is left before the next one starts.
            leftovers = _kill_leftovers()
            _remove_ipc()
            counter += 1
            drop_to = None
            if root:  # a uid no other submission of this zygote uses (nor any process still alive)
                drop_to = uid_base + 1 + (counter - 1) % (UID_SPAN - 1)
                leftovers += _kill_uid(drop_to)
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
            wire.send_frame(ctl, {"ok": True, "pid": pid, "uid": drop_to, "leftovers": leftovers})
        elif op == "reap":
            status = _reap(child, kill=bool(msg.get("kill")), wait_s=float(msg.get("wait_s", 2.0)))
            status["leftovers"] = _kill_leftovers()
            _reap_all()
            _remove_ipc()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            child, workdir = None, None
            wire.send_frame(ctl, {"ok": True, **status})
        elif op == "ping":
            wire.send_frame(ctl, {"ok": True})
        else:
            wire.send_frame(ctl, {"ok": False, "error": f"unknown zygote operation {str(op)[:40]!r}"})


def _kill_uid(uid: int) -> int:
    """Kill every process (in this sandbox) running as `uid`; how many there were."""
    n = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                line = next((l for l in f if l.startswith(b"Uid:")), b"")
        except OSError:
            continue
        if line and int(line.split()[1]) == uid:
            try:
                os.kill(int(entry), signal.SIGKILL)
                n += 1
            except (ProcessLookupError, PermissionError):
                pass
    if n:
        _reap_all()
    return n


def _remove_ipc() -> None:
    """Remove System V shared memory, semaphores and message queues a child left in this IPC namespace.

    Each child normally has an IPC namespace of its own (`_private_workdir`);
    this covers the sandboxes where it cannot.
    """
    calls = (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl"))
    for kind, fn in calls:
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 2:
                continue
            ipc_id = int(fields[1])
            if kind == "sem":
                _libc.semctl(ipc_id, 0, 0, None)  # IPC_RMID = 0
            else:
                getattr(_libc, fn)(ipc_id, 0, None)


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
