"""Messages between the trusted grader and the sandbox: JSON plus safetensors, never pickle.

A frame is ``MAGIC | len(json) | len(blob) | json | blob``. The JSON holds the
structure; every tensor in it is a reference ``{"$t": name}`` into the blob,
which is a safetensors file. Reading enforces size limits, so a hostile peer
cannot make the reader allocate without bound.

This module must stay importable inside the sandbox: standard library, torch
and safetensors only, no imports from seqgrade.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import torch
from safetensors.torch import load as _st_load

MAGIC = b"SQG1"
_HEADER = struct.Struct("<4sIQ")
MAX_JSON = 16 * 1024 * 1024
MAX_BLOB = 256 * 1024 * 1024

_DTYPES = {
    "float64": torch.float64, "float32": torch.float32, "float16": torch.float16,
    "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32,
    "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8, "bool": torch.bool,
}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}
try:  # exactly the dtypes the installed safetensors reads back
    from safetensors.torch import _TYPES as _ST_NAMES
    _ST_DTYPES = {dtype: name for name, dtype in _ST_NAMES.items()}
except ImportError:  # pragma: no cover - a safetensors without the table
    _ST_DTYPES = {
        torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
        torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
        torch.bool: "BOOL",
    }
_ST_LENGTH = struct.Struct("<Q")


class WireError(Exception):
    """A frame that breaks the protocol (bad magic, too large, malformed JSON)."""


class Ref:
    """A handle to an object that lives in the sandbox child (a module, a result)."""

    __slots__ = ("id", "path")

    def __init__(self, id: int, path: tuple = ()):
        self.id = int(id)
        self.path = tuple(path)

    def __getitem__(self, key) -> "Ref":
        return Ref(self.id, self.path + (key,))

    def __repr__(self) -> str:
        return f"Ref({self.id}, {self.path})"


class GradInput:
    """A tensor argument sent with ``requires_grad=True``; its gradient comes back."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor


class Strided:
    """A tensor argument that arrives as a non-contiguous view with the same values and shape.

    ``"transposed"``: a view whose first two dimensions are swapped in memory;
    ``"sliced"``: the first half of a twice-as-long last dimension. Both need 2 dimensions or more.
    """

    __slots__ = ("tensor", "how")
    HOW = ("transposed", "sliced")

    def __init__(self, tensor: torch.Tensor, how: str = "transposed"):
        if how not in self.HOW or tensor.dim() < 2:
            raise ValueError(f"cannot send a tensor of shape {tuple(tensor.shape)} as a {how!r} view")
        self.tensor = tensor
        self.how = how

    def storage(self) -> torch.Tensor:
        """What crosses the wire: the memory the view is taken from."""
        if self.how == "transposed":
            return self.tensor.transpose(0, 1)
        return torch.cat((self.tensor, torch.zeros_like(self.tensor)), dim=-1)

    @staticmethod
    def view(storage: torch.Tensor, how: str) -> torch.Tensor:
        if how == "transposed" and storage.dim() >= 2:
            return storage.transpose(0, 1)
        if how == "sliced" and storage.dim() >= 1 and storage.size(-1) % 2 == 0:
            return storage[..., :storage.size(-1) // 2]
        raise WireError(f"malformed strided tensor ({how!r}, shape {tuple(storage.shape)})")


class Opaque:
    """A value of a type the wire does not carry; only its type name crosses."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Opaque) and other.type_name == self.type_name


def dtype_name(dtype: torch.dtype) -> str:
    return _DTYPE_NAMES[dtype]


def dtype_from_name(name: str) -> torch.dtype:
    try:
        return _DTYPES[name]
    except KeyError:
        raise WireError(f"unknown dtype {name!r}") from None


class Encoder:
    """Turns a nested value into JSON-able data plus a dict of named tensors."""

    def __init__(self, strict_tensors: bool = True, copy: bool = True):
        self.tensors: dict[str, torch.Tensor] = {}
        self.strict_tensors = strict_tensors
        self.copy = copy

    def _tensor(self, t: torch.Tensor) -> str:
        """Keep `t` (a copy of it unless ``copy=False``: for a frame packed at once, whose bytes are the copy)."""
        name = f"t{len(self.tensors)}"
        t = t.detach().to("cpu").contiguous()
        self.tensors[name] = t.clone() if self.copy else t
        return name

    def encode(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"$f": repr(v)}
        if isinstance(v, torch.Tensor):
            if type(v) is not torch.Tensor and type(v) is not torch.nn.Parameter:
                if self.strict_tensors:
                    return {"$obj": f"{type(v).__module__}.{type(v).__qualname__} (a Tensor subclass)"}
            return {"$t": self._tensor(v)}
        if isinstance(v, GradInput):
            return {"$t": self._tensor(v.tensor), "grad": True}
        if isinstance(v, Strided):
            return {"$t": self._tensor(v.storage()), "strided": v.how}
        if isinstance(v, Ref):
            return {"$ref": v.id, "path": list(v.path)}
        if isinstance(v, torch.dtype):
            return {"$dtype": dtype_name(v)}
        if isinstance(v, tuple):
            return {"$tuple": [self.encode(x) for x in v]}
        if isinstance(v, list):
            return [self.encode(x) for x in v]
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {"$dict": [[k, self.encode(x)] for k, x in v.items()]}
        if isinstance(v, Opaque):
            return {"$obj": v.type_name}
        return {"$obj": f"{type(v).__module__}.{type(v).__qualname__}"}


MAX_DEPTH = 64


def decode(obj: Any, tensors: dict[str, torch.Tensor], resolve_ref=None) -> Any:
    """Rebuild a nested value; `resolve_ref(Ref)` maps handles (None keeps them as Ref).

    Anything malformed raises `WireError`, whatever its shape.
    """
    try:
        return _decode(obj, tensors, resolve_ref, 0)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a malformed structure makes decoding raise
        raise WireError(f"malformed value ({type(exc).__name__}: {str(exc)[:80]})") from None


def _decode(obj: Any, tensors: dict[str, torch.Tensor], resolve_ref, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_decode(x, tensors, resolve_ref, depth + 1) for x in obj]
    if not isinstance(obj, dict) or len(obj) == 0:
        raise WireError(f"malformed value {str(obj)[:80]}")
    if "$t" in obj:
        try:
            t = tensors[obj["$t"]]
        except (KeyError, TypeError):
            raise WireError(f"reference to a missing tensor {obj['$t']!r}") from None
        if obj.get("grad"):
            return GradInput(t)
        if "strided" in obj:
            return Strided.view(t, str(obj["strided"]))
        return t
    if "$tuple" in obj:
        if not isinstance(obj["$tuple"], list):
            raise WireError("malformed tuple")
        return tuple(_decode(x, tensors, resolve_ref, depth + 1) for x in obj["$tuple"])
    if "$dict" in obj:
        if not isinstance(obj["$dict"], list) or not all(isinstance(p, list) and len(p) == 2 for p in obj["$dict"]):
            raise WireError("malformed dict")
        return {str(k): _decode(x, tensors, resolve_ref, depth + 1) for k, x in obj["$dict"]}
    if "$f" in obj:
        return float(obj["$f"])
    if "$dtype" in obj:
        return dtype_from_name(obj["$dtype"])
    if "$ref" in obj:
        ref = Ref(obj["$ref"], tuple(obj.get("path", ())))
        return resolve_ref(ref) if resolve_ref else ref
    if "$obj" in obj:
        return Opaque(str(obj["$obj"]))
    raise WireError(f"malformed value {str(obj)[:80]}")


def safetensors_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    """`tensors` in the safetensors format (what ``safetensors.torch.save`` writes, read back by its loader).

    Written here because the library's writer costs about 35 us per tensor
    (it looks for shared storage, which the wire never sends), and a state
    dict crosses the wire for every module a check builds. Only the writing is
    ours: every frame is read by safetensors' own validating parser.
    """
    header: dict = {}
    parts: list[torch.Tensor] = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().to("cpu").contiguous()
        size = t.numel() * t.element_size()
        try:
            header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape),
                            "data_offsets": [offset, offset + size]}
        except KeyError:
            raise WireError(f"tensor {name} has a dtype the wire does not carry ({t.dtype})") from None
        if size:
            parts.append(t.view(-1).view(torch.uint8))
        offset += size
    meta = json.dumps(header, separators=(",", ":")).encode("utf-8")
    meta += b" " * (-len(meta) % 8)  # the format pads its header to 8 bytes
    data = torch.cat(parts).numpy().tobytes() if parts else b""
    return _ST_LENGTH.pack(len(meta)) + meta + data


def pack(header: dict, tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    data = json.dumps(header, allow_nan=False).encode("utf-8")
    blob = safetensors_bytes(tensors) if tensors else b""
    return _HEADER.pack(MAGIC, len(data), len(blob)) + data + blob


def unpack_header(raw: bytes) -> tuple[int, int]:
    magic, n_json, n_blob = _HEADER.unpack(raw)
    if magic != MAGIC:
        raise WireError("bad frame magic: the peer does not speak the seqgrade protocol")
    if n_json > MAX_JSON or n_blob > MAX_BLOB:
        raise WireError(f"frame too large ({n_json} + {n_blob} bytes)")
    return n_json, n_blob


def unpack_body(data: bytes, blob: bytes) -> tuple[dict, dict[str, torch.Tensor]]:
    try:
        header = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise WireError("malformed frame: JSON nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - bad UTF-8, bad JSON, integers past Python's digit limit, ...
        raise WireError(f"malformed frame: {type(exc).__name__}: {str(exc)[:120]}") from None
    if not isinstance(header, dict):
        raise WireError("malformed frame: the header is not an object")
    tensors: dict[str, torch.Tensor] = {}
    if blob:
        try:
            tensors = _st_load(bytes(blob))
        except Exception as exc:  # safetensors raises its own error types
            raise WireError(f"malformed tensor payload: {exc}") from None
        for name, t in tensors.items():
            if type(t) is not torch.Tensor:  # pragma: no cover - safetensors gives plain tensors
                raise WireError(f"tensor {name} arrived as {type(t).__name__}")
    return header, tensors


HEADER_SIZE = _HEADER.size


def recv_exact(sock, n: int) -> bytes:
    """Read exactly n bytes from a socket; EOFError when the peer closed."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise EOFError("the peer closed the connection")
        got += k
    return bytes(buf)


def send_frame(sock, header: dict, tensors: dict[str, torch.Tensor] | None = None) -> None:
    sock.sendall(pack(header, tensors))


def recv_frame(sock) -> tuple[dict, dict[str, torch.Tensor]]:
    """One frame. Anything malformed raises `WireError`; a closed peer `EOFError`; a socket error `OSError`."""
    n_json, n_blob = unpack_header(recv_exact(sock, HEADER_SIZE))
    data = recv_exact(sock, n_json)
    blob = recv_exact(sock, n_blob) if n_blob else b""
    return unpack_body(data, blob)


def output_grad_pairs(out, grads):
    """(output tensor, its grad) for every tensor in `out` that has a grad in `grads`: what a
    backward request pairs (the sandboxed child and the fingerprints' local replay alike)."""
    if isinstance(grads, torch.Tensor):
        if isinstance(out, torch.Tensor):
            yield out, grads
        return
    if isinstance(grads, (list, tuple)) and isinstance(out, (list, tuple)):
        for o, g in zip(out, grads):
            yield from output_grad_pairs(o, g)
