"""Terminal tables: aligned by what a terminal shows, wrapped to its width, plain into a pipe."""

from __future__ import annotations

import subprocess
import sys

import click

from grader import escape
from grader.commands.common import display_width, table

from tests.cli._support import ENV, REPO

ANSI = "\x1b["


def test_colour_codes_take_no_width():
    assert display_width(click.style("PASS", fg="green")) == 4
    assert display_width("注意力") == 6


def test_coloured_cells_are_aligned_as_plain_ones():
    rows = [["a", click.style("PASS", fg="green"), "x"], ["bb", click.style("ERROR", fg="red"), "y"]]
    plain = click.unstyle(table(rows, ["k", "result", "v"], width=None)).splitlines()
    assert plain == ["k   result  v", "--  ------  -", "a   PASS    x", "bb  ERROR   y"]


def test_a_long_column_is_wrapped_to_the_width():
    message = "your code raised NotImplementedError at gated.py:155 in create_cell_parameters " * 3
    out = table([["test_public_lstm", "ERROR", "0/1", message]], ["check", "result", "points", "what to fix"],
                width=60)
    lines = out.splitlines()
    assert max(display_width(line) for line in lines) <= 60
    assert len(lines) > 4  # the message took several lines
    assert " ".join(line[lines[0].index("what"):].strip() for line in lines[2:]).split() == message.split()
    assert lines[2].startswith("test_public_lstm  ERROR   0/1")  # narrow columns keep their width


def test_wide_characters_wrap_by_their_display_width():
    out = table([["q", "梯度消失" * 20]], ["id", "说明"], width=30)
    assert all(display_width(line) <= 30 for line in out.splitlines())
    assert "".join(line[4:].strip() for line in out.splitlines()[2:]) == "梯度消失" * 20


def test_newlines_in_a_cell_stay_inside_its_column():
    out = table([["test_x", "first line\n(sizes used: LSTM(input_size=3))"]], ["check", "what"], width=None)
    assert out.splitlines()[2:] == ["test_x  first line", "        (sizes used: LSTM(input_size=3))"]


def test_escaped_student_text_cannot_inject_colour_or_break_the_layout():
    hostile = "\x1b[2J\x1b[31mgot you\r"
    out = table([[escape.one_line(hostile), "x"]], ["message", "v"], width=None)
    assert ANSI not in out and "\\x1b[2J" in out
    header, rule, row = out.splitlines()
    assert row.rindex("x") == header.index("v")


def test_output_into_a_pipe_is_plain_and_unwrapped():
    """`seqgrade list` into a pipe: no colour codes, lines as long as they need to be."""
    r = subprocess.run([sys.executable, "-m", "grader.cli", "list"], cwd=REPO, env=dict(ENV, COLUMNS="40"),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert ANSI not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) > 40


def test_output_to_a_terminal_is_wrapped_to_its_width():
    """`seqgrade list` on a 70-column terminal: every table line fits, colour codes not counted."""
    import os
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "list"], cwd=REPO, stdout=slave,
                            stderr=subprocess.PIPE, env=dict(ENV, COLUMNS="70"))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    lines = b"".join(chunks).decode("utf-8").replace("\r\n", "\n").splitlines()
    tables, inside = [], False
    for line in lines:
        inside = (inside or line.startswith("check ")) and not line.startswith("total:")
        if inside:
            tables.append(line)
    assert sum(line.startswith("test_") for line in tables) > 20
    assert any(line.startswith(" " * 20) for line in tables)  # some descriptions were wrapped
    assert all(display_width(line) <= 70 for line in tables), [ln for ln in tables if display_width(ln) > 70][:3]
