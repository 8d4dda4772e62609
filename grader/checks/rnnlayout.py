"""torch's recurrent layout, for the messages of checks of RNN, LSTM and GRU modules.

torch.nn.RNN, LSTM and GRU return `output` [T, B, D*H] (or [B, T, D*H] with
batch_first=True, [T, D*H] for an unbatched input) and final states
[D*num_layers, B, H] (or [D*num_layers, H] unbatched) whatever batch_first says.
A check's case describes its configuration with the attributes T, B, H, D
(directions), L (layers), batch_first and unbatched; these helpers turn a wrong
shape into the layout rule it breaks and name each dimension for the messages
that say where values first differ.
"""

from __future__ import annotations


def shape_hint(name: str, shape: tuple[int, ...], c) -> str:
    """Why `shape` is wrong for `name` ("output" or a final state such as "h_n", "c_n"): the rule of
    torch's layout it breaks, or "" when no rule explains it."""
    DH = c.D * c.H
    if name == "output":
        if c.batch_first and shape == (c.T, c.B, DH):
            return ": with batch_first=True the output is [B, T, D*H]"
        if not c.batch_first and not c.unbatched and shape == (c.B, c.T, DH):
            return ": with batch_first=False (the default) the output is time-first [T, B, D*H]"
        if c.unbatched and shape == (c.T, 1, DH):
            return ": an unbatched [T, I] input gives an unbatched [T, D*H] output"
        if shape and shape[-1] == c.H and c.D == 2:
            return ": a bidirectional output concatenates both directions (D*H features)"
        return ""
    if c.batch_first and shape == (c.B, c.D * c.L, c.H):
        return f": {name} stays [D*num_layers, B, H] even with batch_first=True"
    if c.unbatched and len(shape) == 3:
        return f": for an unbatched input {name} is [D*num_layers, H]"
    if len(shape) == 3 and shape[0] != c.D * c.L:
        return f": {name} holds one row per layer and direction ([D*num_layers, B, H])"
    return ""


def output_dims(c) -> tuple[str, ...]:
    """Names of the output's dimensions, for messages that say where it first differs."""
    if c.unbatched:
        return ("time step", "feature")
    return ("batch item", "time step", "feature") if c.batch_first else ("time step", "batch item", "feature")


def state_dims(c) -> tuple[str, ...]:
    """Names of a final state's dimensions."""
    return ("layer*direction row", "feature") if c.unbatched else ("layer*direction row", "batch item", "feature")
