"""The wire between grader and sandbox: nested values survive a frame, malformed frames are refused.

Everything a sandboxed child sends back goes through `grader.sandbox.wire`, so
these tests play the hostile peer: every malformed frame must raise `WireError`
(never another exception, never a giant allocation), and no object other than
plain data and plain tensors may come out of a frame.
"""

from __future__ import annotations

import json
import math
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import wire
from grader.sandbox.wire import (HEADER_SIZE, MAGIC, MAX_BLOB, MAX_JSON, Encoder, GradInput, Opaque, Ref,
                                 WireError, decode, pack, unpack_body, unpack_header)

DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
          torch.int8, torch.uint8, torch.bool]


def send_and_receive(value):
    """Encode `value`, pack it into one frame, unpack and decode it as the other side would."""
    enc = Encoder()
    frame = pack({"value": enc.encode(value)}, enc.tensors)
    n_json, n_blob = unpack_header(frame[:HEADER_SIZE])
    assert len(frame) == HEADER_SIZE + n_json + n_blob
    header, tensors = unpack_body(frame[HEADER_SIZE:HEADER_SIZE + n_json], frame[HEADER_SIZE + n_json:])
    return decode(header["value"], tensors)


def same(a, b) -> bool:
    """Structural equality that also compares types, tensors (dtype, shape, bits) and nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def sample_tensor(dtype: torch.dtype, shape=(2, 3)) -> torch.Tensor:
    x = torch.arange(int(torch.tensor(shape).prod()), dtype=torch.float64).reshape(shape) - 2.5
    if dtype == torch.bool:
        return x > 0
    if dtype == torch.uint8:
        return x.abs().to(dtype)
    return x.to(dtype)


# -- round trips --------------------------------------------------------------

@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**62, 1.5, -0.0, "", "héllo 注意力",
    float("inf"), float("-inf"),
    (), [], {},
    (1, (2, (3,))), [1, [2, [3]]], {"a": {"b": {"c": None}}},
    {"tuple": (1, 2.0), "list": [None, "x"], "dtype": torch.float16},
], ids=["none", "true", "false", "zero", "negative", "big-int", "float", "negative-zero", "empty-str", "unicode",
        "inf", "minus-inf", "empty-tuple", "empty-list", "empty-dict", "nested-tuples", "nested-lists",
        "nested-dicts", "mixed"])
def test_plain_values_round_trip(value):
    assert same(send_and_receive(value), value)


def test_nan_round_trips_as_nan():
    back = send_and_receive([float("nan"), (float("nan"),)])
    assert math.isnan(back[0]) and math.isnan(back[1][0])


def test_tuple_and_list_stay_distinct():
    back = send_and_receive(((1, 2), [1, 2]))
    assert type(back) is tuple and type(back[0]) is tuple and type(back[1]) is list


def test_dict_keeps_key_order():
    value = {"z": 1, "a": 2, "m": 3}
    assert list(send_and_receive(value)) == ["z", "a", "m"]


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_dtype_round_trips(dtype):
    assert send_and_receive(dtype) is dtype


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_tensor_of_every_dtype_round_trips(dtype):
    t = sample_tensor(dtype)
    assert same(send_and_receive(t), t)


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0, 2)], ids=["0", "0x3", "4x0x2"])
def test_empty_tensor_round_trips_with_its_shape(dtype, shape):
    t = torch.zeros(shape, dtype=dtype)
    back = send_and_receive(t)
    assert back.shape == t.shape and back.dtype == dtype


def test_zero_dim_tensor_round_trips():
    t = torch.tensor(3.25, dtype=torch.float64)
    back = send_and_receive(t)
    assert back.shape == () and back.item() == 3.25


def test_float_specials_inside_tensors_round_trip():
    t = torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0], dtype=torch.float64)
    back = send_and_receive(t)
    assert torch.equal(torch.isnan(back), torch.isnan(t))
    assert back[1] == math.inf and back[2] == -math.inf and math.copysign(1, back[3].item()) == -1


def test_non_contiguous_tensor_arrives_with_its_values():
    t = torch.arange(12.0).reshape(3, 4).t()
    assert same(send_and_receive(t), t.contiguous())


def test_tensor_requiring_grad_arrives_detached():
    t = torch.ones(2, requires_grad=True) * 2
    back = send_and_receive(t)
    assert not back.requires_grad and torch.equal(back, torch.full((2,), 2.0))


ST_DTYPES = sorted(wire._ST_DTYPES, key=str)


@pytest.mark.parametrize("dtype", ST_DTYPES, ids=[str(d).removeprefix("torch.") for d in ST_DTYPES])
def test_the_wire_writes_what_the_safetensors_library_reads_for_every_dtype_it_knows(dtype):
    from safetensors.torch import load, save

    raw = torch.randint(0, 256, (6 * dtype.itemsize,), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    tensors = {"matrix": raw.view(dtype).reshape(2, 3), "scalar": torch.zeros((), dtype=dtype),
               "empty": torch.zeros(0, 2, dtype=dtype)}
    ours, theirs = load(wire.safetensors_bytes(tensors)), load(save(tensors))
    assert sorted(ours) == sorted(tensors)
    for name, t in theirs.items():
        assert ours[name].dtype == t.dtype and ours[name].shape == t.shape
        assert torch.equal(ours[name].view(-1).view(torch.uint8), t.view(-1).view(torch.uint8)), name


def test_tensors_that_share_memory_are_written_each_with_its_own_bytes():
    base = torch.arange(12.0)
    tied = {"weight": base.view(3, 4), "decoder.weight": base.view(3, 4), "tail": base[8:],
            "transposed": base.view(3, 4).t()}
    back = load_safetensors(wire.safetensors_bytes(tied))
    for name, t in tied.items():
        assert torch.equal(back[name], t) and back[name].is_contiguous()


def test_a_frame_packed_from_an_encoder_that_does_not_copy_carries_the_values_of_packing_time():
    t = torch.arange(4.0)
    enc = Encoder(copy=False)
    frame = pack({"value": enc.encode(t)}, enc.tensors)
    t.add_(100)  # after packing: the frame already holds the bytes
    n_json, _ = unpack_header(frame[:HEADER_SIZE])
    header, tensors = unpack_body(frame[HEADER_SIZE:HEADER_SIZE + n_json], frame[HEADER_SIZE + n_json:])
    assert torch.equal(decode(header["value"], tensors), torch.arange(4.0))


def test_a_dtype_the_wire_does_not_carry_is_a_wire_error():
    dtype = next(d for d in (torch.complex128, torch.complex32, torch.quint8) if d not in wire._ST_DTYPES)
    with pytest.raises(WireError, match=str(dtype).removeprefix("torch.")):
        wire.safetensors_bytes({"z": torch.zeros(2, dtype=dtype)})


def load_safetensors(blob: bytes) -> dict:
    from safetensors.torch import load

    return load(blob)


def test_the_same_tensor_twice_arrives_twice():
    t = torch.arange(3)
    back = send_and_receive((t, t))
    assert torch.equal(back[0], t) and torch.equal(back[1], t)


def test_parameter_travels_as_a_plain_tensor():
    p = torch.nn.Parameter(torch.ones(2, 2))
    back = send_and_receive(p)
    assert type(back) is torch.Tensor and torch.equal(back, torch.ones(2, 2))


def test_grad_input_keeps_its_marker():
    back = send_and_receive([GradInput(torch.ones(3))])
    assert isinstance(back[0], GradInput) and torch.equal(back[0].tensor, torch.ones(3))


def test_ref_round_trips_with_its_path():
    back = send_and_receive(Ref(4)["encoder"][0])
    assert isinstance(back, Ref) and back.id == 4 and back.path == ("encoder", 0)


def test_ref_is_resolved_by_the_receiver():
    enc = Encoder()
    obj = enc.encode([Ref(1), Ref(2)])
    assert decode(obj, {}, resolve_ref=lambda r: f"object {r.id}") == ["object 1", "object 2"]


# -- values the wire does not carry --------------------------------------------

class SneakyTensor(torch.Tensor):
    """A Tensor subclass: its methods (e.g. __eq__) would run the sender's code on the receiver."""


def test_tensor_subclass_is_encoded_as_opaque_never_as_a_tensor():
    t = torch.ones(3).as_subclass(SneakyTensor)
    enc = Encoder()
    obj = enc.encode(t)
    assert enc.tensors == {}
    back = decode(obj, {})
    assert isinstance(back, Opaque) and not isinstance(back, torch.Tensor)
    assert "SneakyTensor" in back.type_name


def test_tensor_subclass_nested_in_a_structure_is_opaque():
    back = send_and_receive({"out": (torch.zeros(1).as_subclass(SneakyTensor), torch.zeros(1))})
    assert isinstance(back["out"][0], Opaque)
    assert type(back["out"][1]) is torch.Tensor


@pytest.mark.parametrize("value", [object(), {1: "int key"}, {1, 2}, b"bytes", lambda: 0, 1 + 2j],
                         ids=["object", "int-keyed-dict", "set", "bytes", "function", "complex"])
def test_unsupported_value_arrives_as_opaque_with_its_type_name(value):
    back = send_and_receive(value)
    assert isinstance(back, Opaque)
    assert type(value).__qualname__ in back.type_name


# -- property: any nested structure round-trips --------------------------------

_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(DTYPES),
    st.builds(sample_tensor, st.sampled_from(DTYPES),
              st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)),
)
_nested = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(_nested)
def test_any_nested_structure_round_trips(value):
    assert same(send_and_receive(value), value)


# -- malformed frames -----------------------------------------------------------

def header_bytes(magic=MAGIC, n_json=2, n_blob=0) -> bytes:
    return struct.pack("<4sIQ", magic, n_json, n_blob)


@pytest.mark.parametrize("magic", [b"SQG0", b"\x00\x00\x00\x00", b"HTTP", b"sqg1"],
                         ids=["old-version", "zeros", "http", "lowercase"])
def test_bad_magic_is_refused(magic):
    with pytest.raises(WireError, match="magic"):
        unpack_header(header_bytes(magic=magic))


@pytest.mark.parametrize("n_json,n_blob", [(MAX_JSON + 1, 0), (2, MAX_BLOB + 1), (2**32 - 1, 2**64 - 1)],
                         ids=["json-too-long", "blob-too-long", "both-maximal"])
def test_oversized_lengths_are_refused_before_reading(n_json, n_blob):
    with pytest.raises(WireError, match="too large"):
        unpack_header(header_bytes(n_json=n_json, n_blob=n_blob))


def test_lengths_at_the_limits_are_accepted():
    assert unpack_header(header_bytes(n_json=MAX_JSON, n_blob=MAX_BLOB)) == (MAX_JSON, MAX_BLOB)


@pytest.mark.parametrize("data", [b"{", b"not json", b"\xff\xfe{}", b'{"a": NaN', b""],
                         ids=["truncated", "text", "not-utf8", "unterminated", "empty"])
def test_invalid_json_is_refused(data):
    with pytest.raises(WireError, match="malformed frame"):
        unpack_body(data, b"")


@pytest.mark.parametrize("data", [b"[1, 2]", b"3", b'"header"', b"null"],
                         ids=["list", "number", "string", "null"])
def test_header_that_is_not_an_object_is_refused(data):
    with pytest.raises(WireError, match="not an object"):
        unpack_body(data, b"")


def test_reference_to_a_missing_tensor_is_refused():
    enc = Encoder()
    obj = enc.encode([torch.ones(2)])
    with pytest.raises(WireError, match="missing tensor"):
        decode(obj, {})


def test_reference_to_a_tensor_by_a_non_string_name_is_refused():
    with pytest.raises(WireError, match="missing tensor"):
        decode({"$t": ["t0"]}, {"t0": torch.ones(1)})


@pytest.mark.parametrize("blob", [
    b"garbage",
    b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\":1}",
    struct.pack("<Q", 1 << 40) + b"{}",
], ids=["garbage", "wrong-header-length", "huge-header-length"])
def test_corrupt_safetensors_blob_is_refused(blob):
    with pytest.raises(WireError, match="malformed tensor payload"):
        unpack_body(b"{}", blob)


def test_truncated_safetensors_blob_is_refused():
    from safetensors.torch import save

    blob = save({"t0": torch.ones(100)})
    with pytest.raises(WireError, match="malformed tensor payload"):
        unpack_body(b"{}", blob[:-10])


@pytest.mark.parametrize("obj", [{}, {"$unknown": 1}, {"t": "t0"}], ids=["empty", "unknown-tag", "untagged"])
def test_unknown_encoded_value_is_refused(obj):
    with pytest.raises(WireError, match="malformed value"):
        decode(obj, {})


@pytest.mark.parametrize("obj", [
    {"$tuple": 5}, {"$dict": 5}, {"$dict": [[1]]}, {"$dict": [["k", 1, 2]]}, {"$f": "x"}, {"$ref": "x"},
], ids=["tuple-not-a-list", "dict-not-a-list", "dict-pair-too-short", "dict-pair-too-long", "float-not-a-number",
        "ref-not-an-int"])
def test_malformed_structure_is_refused(obj):
    """A hostile peer's frame must fail as a protocol violation, not as an arbitrary exception."""
    with pytest.raises(WireError):
        decode(obj, {})


def test_deeply_nested_header_is_refused():
    depth = 100_000
    with pytest.raises(WireError):
        unpack_body(b'{"v": ' + b"[" * depth + b"]" * depth + b"}", b"")


def test_deeply_nested_value_is_refused():
    value: list = []
    for _ in range(5_000):
        value = [value]
    with pytest.raises(WireError):
        decode(value, {})


def test_unknown_dtype_name_is_refused():
    with pytest.raises(WireError, match="unknown dtype"):
        decode({"$dtype": "complex128"}, {})


def test_opaque_from_the_peer_never_becomes_an_object_of_that_type():
    back = decode({"$obj": "builtins.eval"}, {})
    assert isinstance(back, Opaque) and back.type_name == "builtins.eval"


def test_frame_bytes_never_contain_pickle():
    enc = Encoder()
    frame = pack({"value": enc.encode({"x": torch.ones(2), "o": object()})}, enc.tensors)
    assert b"\x80\x04" not in frame[:HEADER_SIZE + 200]  # no pickle protocol header
    header = json.loads(frame[HEADER_SIZE:HEADER_SIZE + unpack_header(frame[:HEADER_SIZE])[0]])
    assert header["value"]["$dict"][1][1] == {"$obj": "builtins.object"}


def test_recv_frame_reads_one_frame_from_a_socket():
    import socket

    a, b = socket.socketpair()
    with a, b:
        wire.send_frame(a, {"op": "hello"}, {"t0": torch.arange(4)})
        header, tensors = wire.recv_frame(b)
    assert header == {"op": "hello"} and torch.equal(tensors["t0"], torch.arange(4))


def test_recv_frame_raises_eof_when_the_peer_closes_mid_frame():
    import socket

    a, b = socket.socketpair()
    with b:
        frame = pack({"op": "hello"})
        a.sendall(frame[:-3])
        a.close()
        with pytest.raises(EOFError):
            wire.recv_frame(b)


@pytest.mark.parametrize("how", wire.Strided.HOW)
def test_a_strided_argument_arrives_as_a_non_contiguous_view_with_the_same_values(how):
    x = torch.randn(3, 4, 5, dtype=torch.float64)
    got = send_and_receive((wire.Strided(x, how), 7))[0]
    assert type(got) is torch.Tensor and torch.equal(got, x)
    assert not got.is_contiguous()
    with pytest.raises(RuntimeError):  # what a student's .view(...) of a merged dimension meets
        got.view(-1)


def test_a_malformed_strided_tensor_is_refused():
    enc = Encoder()
    frame = pack({"value": {"$t": enc._tensor(torch.zeros(3)), "strided": "sliced"}}, enc.tensors)
    header, tensors = unpack_body(frame[HEADER_SIZE:HEADER_SIZE + unpack_header(frame[:HEADER_SIZE])[0]],
                                  frame[HEADER_SIZE + unpack_header(frame[:HEADER_SIZE])[0]:])
    with pytest.raises(WireError):
        decode(header["value"], tensors)
    with pytest.raises(WireError):
        decode({"$t": "t0", "strided": "transposed"}, {"t0": torch.zeros(3)})
    with pytest.raises(ValueError):
        wire.Strided(torch.zeros(3), "transposed")
