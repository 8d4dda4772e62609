"""The contract's promises and names (docs/contract.md), and the tables that trace them to checks.

`docs/contract.md` tags every promise with an id in a code span, ``[mask.float-additive]``,
and ends with a table of the contract's names and the kinds of check that apply to
each. Checks declare what they test with the `check` marker (`kind`, `promises`,
`targets`). From both this module builds:

- the traceability table: promise -> the hidden and public checks that test it;
- the coverage matrix: per assignment, name x kind -> the checks of that kind that call it.

Both are rendered as text (`seqgrade list --promises`, `--coverage`) and as Markdown
(the generated blocks of docs/writing-checks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .markers import KINDS

TAG = re.compile(r"`\[([a-z0-9][a-z0-9.-]*)\]`")
COVERAGE_HEADING = "## How each name is checked"
# The kinds of the coverage matrix (every kind but "properties", which says how, not what).
MATRIX_KINDS = tuple(k for k in KINDS if k != "properties")


@dataclass(frozen=True)
class Promise:
    id: str
    section: str  # the contract's heading above it ("Conventions" for the first part)
    text: str  # the words that follow the tag, up to the next tag (Markdown removed)


@dataclass(frozen=True)
class Name:
    """One function, module or method of the contract, and the kinds of check that apply to it."""

    assignment: str
    name: str  # "RNN", "Seq2Seq.beam_search"
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    promises: tuple[Promise, ...]
    names: tuple[Name, ...]

    def ids(self) -> list[str]:
        return [p.id for p in self.promises]

    def names_of(self, assignment: str) -> list[Name]:
        return [n for n in self.names if n.assignment == assignment]


@dataclass(frozen=True)
class TracedCheck:
    """What the tables need to know about one collected check."""

    assignment: str
    name: str
    visibility: str  # "hidden" | "public"
    kind: str
    promises: tuple[str, ...]
    targets: tuple[str, ...]

    @property
    def label(self) -> str:
        """`assignment:check`: check names are unique within an assignment only."""
        return f"{self.assignment}:{self.name}"


@dataclass
class PromiseRow:
    promise: Promise
    hidden: list[str] = field(default_factory=list)
    public: list[str] = field(default_factory=list)


@dataclass
class CoverageCell:
    applies: bool
    checks: list[str] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return self.applies and not self.checks


def _plain(markdown: str) -> str:
    text = markdown.replace("**", "").replace("`", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split()).strip(" ;:,.-")


def parse_contract(path: Path) -> Contract:
    """The promises and names of a contract document; ConfigError when it is malformed."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the contract {path}: {exc.strerror}") from None
    body, _, table = source.partition(COVERAGE_HEADING)
    if not table:
        raise ConfigError(f"{path}: no '{COVERAGE_HEADING}' section (the kinds of check that apply to each name)")
    promises: list[Promise] = []
    section = "Conventions"
    for block in re.split(r"(?m)^(## .*)$", body):
        if block.startswith("## "):
            section = block[3:].strip()
            continue
        tags = list(TAG.finditer(block))
        for i, m in enumerate(tags):
            end = tags[i + 1].start() if i + 1 < len(tags) else len(block)
            chunk = block[m.end():end]
            chunk = re.split(r"\n\s*\n|\n- ", chunk)[0]  # up to the end of its bullet or paragraph
            promises.append(Promise(m.group(1), section, _plain(chunk)))
    seen: set[str] = set()
    for p in promises:
        if p.id in seen:
            raise ConfigError(f"{path}: promise id [{p.id}] is defined twice")
        seen.add(p.id)
    names = []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(MATRIX_KINDS) or cells[0] in ("assignment", "") or set(cells[0]) <= {"-"}:
            continue
        kinds = tuple(k for k, c in zip(MATRIX_KINDS, cells[2:]) if c.lower() == "x")
        names.append(Name(cells[0], cells[1].strip("`"), kinds))
    if not names:
        raise ConfigError(f"{path}: the '{COVERAGE_HEADING}' table lists no name")
    return Contract(tuple(promises), tuple(names))


def contract_path(root: Path) -> Path:
    return root / "docs" / "contract.md"


# ----------------------------------------------------------------------------- tables
def promise_table(contract: Contract, checks: list[TracedCheck]) -> list[PromiseRow]:
    rows = {p.id: PromiseRow(p) for p in contract.promises}
    for c in checks:
        for pid in c.promises:
            if pid in rows:
                (rows[pid].hidden if c.visibility == "hidden" else rows[pid].public).append(c.label)
    return list(rows.values())


def coverage_matrix(contract: Contract, assignment: str,
                    checks: list[TracedCheck]) -> dict[str, dict[str, CoverageCell]]:
    """{name: {kind: cell}} for one assignment's names and checks."""
    matrix = {n.name: {k: CoverageCell(k in n.kinds) for k in MATRIX_KINDS} for n in contract.names_of(assignment)}
    for c in checks:
        if c.assignment != assignment or c.kind not in MATRIX_KINDS:
            continue
        for t in c.targets:
            if t in matrix:
                matrix[t][c.kind].checks.append(c.name)
    return matrix


def marker_problems(contract: Contract, checks: list[TracedCheck]) -> list[str]:
    """Checks whose marker leaves out kind, promises or targets, or names unknown ones."""
    ids = set(contract.ids())
    problems = []
    for c in checks:
        where = f"{c.assignment}/{c.name}"
        if not c.kind:
            problems.append(f"{where}: no kind")
        if not c.promises:
            problems.append(f"{where}: no promises")
        if not c.targets:
            problems.append(f"{where}: no targets")
        names = {n.name for n in contract.names_of(c.assignment)}
        problems += [f"{where}: unknown promise [{p}]" for p in c.promises if p not in ids]
        problems += [f"{where}: unknown target {t!r} (not in the contract's table for {c.assignment})"
                     for t in c.targets if t not in names]
    return problems


# ----------------------------------------------------------------------------- Markdown
def _cell(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "—"


def promises_markdown(rows: list[PromiseRow]) -> str:
    out = ["| promise | what it says | hidden checks | public checks |", "|---|---|---|---|"]
    for r in rows:
        text = r.promise.text if len(r.promise.text) <= 90 else r.promise.text[:87] + "..."
        out.append(f"| `{r.promise.id}` | {text.replace('|', '/')} | {_cell(r.hidden)} | {_cell(r.public)} |")
    return "\n".join(out)


def coverage_markdown(matrices: dict[str, dict[str, dict[str, CoverageCell]]]) -> str:
    """One table per assignment: a cell counts the checks of that kind (· where the kind does not apply)."""
    out = []
    for assignment, matrix in matrices.items():
        out += [f"**{assignment}**", "", "| name | " + " | ".join(MATRIX_KINDS) + " |",
                "|---|" + "---|" * len(MATRIX_KINDS)]
        for name, cells in matrix.items():
            row = []
            for k in MATRIX_KINDS:
                cell = cells[k]
                row.append(str(len(cell.checks)) if cell.checks else ("**0**" if cell.applies else "·"))
            out.append(f"| `{name}` | " + " | ".join(row) + " |")
        out.append("")
    return "\n".join(out).rstrip()


def matrix_size(matrices: dict[str, dict[str, dict[str, CoverageCell]]]) -> tuple[int, int, int]:
    """(names, applicable cells, applicable cells with at least one check)."""
    names = sum(len(m) for m in matrices.values())
    cells = [c for m in matrices.values() for row in m.values() for c in row.values() if c.applies]
    return names, len(cells), sum(1 for c in cells if c.checks)


BEGIN = "<!-- BEGIN GENERATED: {} (seqgrade list --promises --markdown; make docs) -->"
END = "<!-- END GENERATED: {} -->"


def replace_block(document: str, name: str, content: str) -> str:
    """`document` with the generated block `name` replaced by `content`."""
    begin, end = BEGIN.format(name), END.format(name)
    start, stop = document.find(begin), document.find(end)
    if start < 0 or stop < start:
        raise ConfigError(f"no generated block {name!r} ({begin} ... {end})")
    return document[:start + len(begin)] + "\n" + content + "\n" + document[stop:]
