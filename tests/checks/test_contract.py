"""docs/contract.md and the checks that test it: every promise has an id and a hidden check, every
name exists, every applicable (name, kind) cell has a check, and the generated docs are current."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import re

import pytest
from click.testing import CliRunner

from grader.checks.inventory import list_checks
from grader.checks.promises import (COVERAGE_HEADING, TracedCheck, coverage_matrix, marker_problems,
                                    parse_contract, promise_table)
from grader.cli import cli
from tests.checks.grading import REPO
from tests.course import ASSIGNMENTS, CFG

CONTRACT = REPO / "docs" / "contract.md"

SHARED = REPO.parent / "shared" / "CONTRACT.md"
# sha256 of the shared CONTRACT.md (whitespace normalised) that docs/contract.md follows, sentence for sentence.
SHARED_SHA256 = "073761e04a67b132ff74b846fdbb103257f9eeb0ba7fee2ad9a694f0e49d7bce"


@functools.cache
def contract():
    return parse_contract(CONTRACT)


@functools.cache
def traced() -> tuple[TracedCheck, ...]:
    return tuple(TracedCheck(a.id, c.name, c.visibility, c.kind, c.promises, c.targets)
                 for a in ASSIGNMENTS.values() for c in list_checks(a, CFG))


def _normalised(text: str) -> str:
    return " ".join(text.split())


def contract_text_without_ids() -> str:
    """docs/contract.md as the shared contract words it: no ids, no added paragraph or sections."""
    body = CONTRACT.read_text(encoding="utf-8").split("## Rules the references decide")[0]
    added = body[body.index("Every promise is preceded by its id"):body.index("Conventions everywhere")]
    return re.sub(r"`\[[a-z0-9.-]+\]` ", "", body.replace(added, ""))


def test_the_contract_follows_the_shared_contract_word_for_word():
    text = _normalised(contract_text_without_ids())
    assert hashlib.sha256(text.encode()).hexdigest() == SHARED_SHA256, \
        "docs/contract.md (ids and added sections removed) no longer words the contract as before"
    if SHARED.is_file():  # a checkout next to the course's shared folder: compare with it directly
        assert text == _normalised(SHARED.read_text(encoding="utf-8"))


def test_every_promise_has_a_unique_id_and_words():
    ids = contract().ids()
    assert len(ids) == len(set(ids)) >= 80
    assert all(p.text for p in contract().promises)
    assert {"mask.float-additive", "dtype.float32-float64", "batch.any", "mha.mask-shapes",
            "rnn.layers-directions", "beam.stop"} <= set(ids)


def _defined(path) -> dict[str, set[str]]:
    """Top-level functions and classes of a module, each class with its methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            out[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    return out


def _names_in_sections() -> dict[str, set[str]]:
    """The reference's top-level names that an assignment's section of the contract calls or lists."""
    text = CONTRACT.read_text(encoding="utf-8").split(COVERAGE_HEADING)[0]
    out: dict[str, set[str]] = {}
    for block in re.split(r"(?m)^## ", text):
        aid = block.split(" ", 1)[0]
        if aid not in ASSIGNMENTS:
            continue
        called = set(re.findall(r"(?<!= )`([A-Za-z_][A-Za-z0-9_]*)\(", block))  # `Name(`, not `x = Name(`
        for listing in re.findall(r"^- ((?:`\w+`, )*`\w+`):", block, re.M):  # - `LSTMCell`, `LSTM`, ...:
            called |= set(re.findall(r"`(\w+)`", listing))
        defined = set(_defined(REPO / "solutions" / ASSIGNMENTS[aid].filename))
        out[aid] = called & defined
    return out


def test_the_coverage_table_lists_every_name_of_the_contract():
    listed: dict[str, set[str]] = {}
    for n in contract().names:
        listed.setdefault(n.assignment, set()).add(n.name.split(".")[0])
    for aid, names in _names_in_sections().items():
        assert names <= listed.get(aid, set()), f"{aid}: {sorted(names - listed.get(aid, set()))} missing"
    assert set(listed) == set(ASSIGNMENTS)


@pytest.mark.parametrize("where", ["solutions", "assignments"])
def test_every_name_of_the_contract_exists_in_the_references_and_the_starter_code(where):
    for n in contract().names:
        a = ASSIGNMENTS[n.assignment]
        path = REPO / where / (a.filename if where == "solutions" else f"{a.id}/{a.filename}")
        defined = _defined(path)
        owner, _, method = n.name.partition(".")
        assert owner in defined, f"{path.relative_to(REPO)} defines no {owner}"
        if method:
            assert method in defined[owner], f"{path.relative_to(REPO)}: {owner} has no method {method}"


def test_the_names_are_importable_from_the_reference():
    for aid in {n.assignment for n in contract().names}:
        a = ASSIGNMENTS[aid]
        spec = importlib.util.spec_from_file_location(f"contract_ref_{aid}", REPO / "solutions" / a.filename)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for n in contract().names_of(aid):
            owner, _, method = n.name.partition(".")
            assert callable(getattr(module, owner))
            assert not method or callable(getattr(getattr(module, owner), method))


def test_readme_and_every_assignment_readme_link_the_contract():
    assert "](docs/contract.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    for a in ASSIGNMENTS.values():
        for name in ("README.md", "README.zh.md"):
            text = (REPO / "assignments" / a.id / name).read_text(encoding="utf-8")
            assert "](../../docs/contract.md)" in text, f"assignments/{a.id}/{name} does not link the contract"


def test_every_check_declares_a_kind_known_promises_and_contract_names():
    assert len(traced()) >= 130
    assert marker_problems(contract(), list(traced())) == []


def test_every_promise_has_a_hidden_check():
    missing = [r.promise.id for r in promise_table(contract(), list(traced())) if not r.hidden]
    assert missing == [], f"promises without a hidden check: {missing}"


@pytest.mark.parametrize("aid", list(ASSIGNMENTS))
def test_every_applicable_cell_of_the_coverage_matrix_has_a_check(aid):
    matrix = coverage_matrix(contract(), aid, list(traced()))
    empty = [f"{name} x {kind}" for name, cells in matrix.items() for kind, c in cells.items() if c.missing]
    assert matrix and empty == [], f"{aid}: no check for {empty}"


def test_the_generated_tables_in_the_docs_are_current():
    spec = importlib.util.spec_from_file_location("update_generated_docs",
                                                  REPO / "scripts" / "update_generated_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = module.DOC.read_text(encoding="utf-8")
    assert module.generated(current) == current, "docs/writing-checks.md is stale: run `make docs`"


def test_list_promises_prints_each_promise_with_its_checks():
    result = CliRunner().invoke(cli, ["list", "--promises", "--assignment", "a3_attention",
                                      "--course", str(REPO / "course" / "course.yaml")])
    assert result.exit_code == 0, result.output
    block = result.output.split("mask.float-additive", 1)[1].split("\n\n")[0]
    assert "hidden: " in block and "a3_attention:test_sdpa_masks" in block


def test_list_coverage_counts_checks_per_name_and_kind():
    result = CliRunner().invoke(cli, ["list", "--coverage", "--assignment", "a1_rnn",
                                      "--course", str(REPO / "course" / "course.yaml")])
    assert result.exit_code == 0, result.output
    assert re.search(r"^RNN\s+\d+\s+\d+\s+\d+", result.output, re.M)
    assert "applicable cells have a check" in result.output
