"""Checks that need more than one value at a time: the meaning of a quiz, not its shape.

Runs after the schema on the same parsed document and skips anything of the
wrong shape (the schema has already reported it), so one mistake gives one
message.
"""

from __future__ import annotations

import re
from typing import Any

from . import expr
from .normalize import key_verdict, normalize
from .variants import PLACEHOLDER, KeyedStream, format_number
from .yamlsrc import Problem, YamlDoc

PROSE_FIELDS = ("title", "prompt", "explanation")  # must be translated
SAMPLE_DRAWS = 24  # formulas are evaluated for this many drawn variants (and the corners)
MAX_VALUES = 1_000_000  # values one parameter may take


def semantic_problems(doc: YamlDoc, languages: list[str]) -> list[Problem]:
    data = doc.data
    if not isinstance(data, dict):
        return []
    out: list[Problem] = []
    for key in ("title", "description"):
        out += _translation(doc, (key,), data.get(key), languages, prose=True)
    questions = data.get("questions")
    if not isinstance(questions, list):
        return out
    seen: dict[str, int] = {}
    for i, q in enumerate(questions):
        if not isinstance(q, dict):
            continue
        qid = q.get("id")
        if isinstance(qid, str):
            if qid in seen:
                out.append(doc.problem(("questions", i, "id"), f"duplicate question id {qid!r} "
                                       f"(first used at line {seen[qid]}); every question needs its own id"))
            else:
                seen[qid] = doc.mark(("questions", i, "id")).line
        out += _question(doc, ("questions", i), q, languages)
    return out


def _translation(doc: YamlDoc, path: tuple, value: Any, languages: list[str], *, prose: bool) -> list[Problem]:
    """A text must be given in every course language (plain strings pass only where `prose` is False)."""
    need = ", ".join(languages)
    if isinstance(value, str):
        if prose and len(languages) > 1:
            example = ", ".join(f"{lang}: ..." for lang in languages)
            return [doc.problem(path, f"missing translation: give {path[-1]} as {{{example}}} "
                                f"(the course requires {need})")]
        return []
    if isinstance(value, dict):
        missing = [lang for lang in languages if lang not in value]
        if missing:
            return [doc.problem(path, f"missing translation {missing[0]!r} in {path[-1]} "
                                f"(the course requires {need})")]
    return []


def _placeholders(doc: YamlDoc, path: tuple, value: Any, known: set[str] | None) -> list[Problem]:
    """Every {{name}} in a text names a parameter (or derived value) of the question."""
    texts = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else []
    out = []
    for text in texts:
        if not isinstance(text, str):
            continue
        for m in PLACEHOLDER.finditer(text):
            name = m.group(1)
            if known is None:
                out.append(doc.problem(path, f"placeholder {{{{{name}}}}} in {path[-1]}: placeholders only "
                                       "work in numeric questions with params"))
            elif name not in known:
                out.append(doc.problem(path, f"placeholder {{{{{name}}}}} in {path[-1]} names no parameter "
                                       f"(declared: {', '.join(sorted(known)) or 'none'})"))
    return out


def _question(doc: YamlDoc, path: tuple, q: dict, languages: list[str]) -> list[Problem]:
    out: list[Problem] = []
    qtype = q.get("type")
    for key in PROSE_FIELDS:
        if key in q:
            out += _translation(doc, path + (key,), q[key], languages, prose=True)
    if "unit" in q:
        out += _translation(doc, path + ("unit",), q["unit"], languages, prose=False)

    if qtype in ("single", "multiple") and isinstance(q.get("options"), list):
        out += _options(doc, path, q, qtype, languages)
    if qtype == "ordering" and isinstance(q.get("items"), list):
        out += _unique_ids(doc, path + ("items",), q["items"], "item")
        for j, item in enumerate(q["items"]):
            if isinstance(item, dict) and "text" in item:
                out += _translation(doc, path + ("items", j, "text"), item["text"], languages, prose=False)
    if qtype == "short":
        out += _short(doc, path, q)
    if qtype == "free":
        out += _free(doc, path, q, languages)

    known = None
    if qtype == "numeric":
        problems, known = _numeric(doc, path, q)
        out += problems
    for key in PROSE_FIELDS + ("unit",):
        if key in q:
            out += _placeholders(doc, path + (key,), q[key], known)
    return out


def _unique_ids(doc: YamlDoc, path: tuple, entries: list, what: str) -> list[Problem]:
    out, seen = [], {}
    for j, entry in enumerate(entries):
        oid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(oid, str):
            continue
        if oid in seen:
            out.append(doc.problem(path + (j, "id"), f"duplicate {what} id {oid!r} (first used at line "
                                   f"{seen[oid]}); {what} ids must differ within a question"))
        else:
            seen[oid] = doc.mark(path + (j, "id")).line
    return out


def _options(doc: YamlDoc, path: tuple, q: dict, qtype: str, languages: list[str]) -> list[Problem]:
    options = q["options"]
    out = _unique_ids(doc, path + ("options",), options, "option")
    correct = []
    for j, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        if "text" in opt:
            out += _translation(doc, path + ("options", j, "text"), opt["text"], languages, prose=False)
        if opt.get("correct") is True:
            correct.append(j)
    if not correct:
        out.append(doc.problem(path + ("options",), f"no correct option in a {qtype} question "
                               "(mark the right one with correct: true)"))
    elif qtype == "single" and len(correct) > 1:
        ids = [options[j].get("id") for j in correct]
        out.append(doc.problem(path + ("options", correct[1], "correct"),
                               f"two correct options in a single-choice question ({ids[0]!r} and {ids[1]!r}); "
                               "keep exactly one, or use type: multiple", key=True))
    return out


def _short(doc: YamlDoc, path: tuple, q: dict) -> list[Problem]:
    out = []
    accept, patterns = q.get("accept"), q.get("patterns")
    if not accept and not patterns:
        out.append(doc.problem(path, "missing 'accept' in a short question (expected a list of accepted "
                               "answers and/or 'patterns', a list of regular expressions)"))
    if isinstance(accept, list):
        for j, a in enumerate(accept):
            if isinstance(a, (str, int, float)) and not normalize(str(a)):
                out.append(doc.problem(path + ("accept", j), "this accepted answer is empty after "
                                       "normalization (case, spaces and punctuation are ignored)"))
    if isinstance(patterns, list):
        for j, pat in enumerate(patterns):
            if not isinstance(pat, str):
                continue
            try:
                re.compile(pat)
            except re.error as exc:
                out.append(doc.problem(path + ("patterns", j), f"regular expression does not compile: "
                                       f"{exc.msg} at position {exc.pos}", offset=exc.pos or 0))
    if not out:
        out += _examples(doc, path, q)
    return out


def _examples(doc: YamlDoc, path: tuple, q: dict) -> list[Problem]:
    """Every `examples.accept` must be accepted by the key and every `examples.reject` rejected."""
    examples = q.get("examples")
    if not isinstance(examples, dict):
        return []
    accept = [str(a) for a in q.get("accept") or [] if isinstance(a, (str, int, float))]
    patterns = [p for p in q.get("patterns") or [] if isinstance(p, str)]
    out = []
    seen: dict[str, str] = {}
    for kind in ("accept", "reject"):
        entries = examples.get(kind)
        if not isinstance(entries, list):
            continue
        for j, ex in enumerate(entries):
            if not isinstance(ex, (str, int, float)) or isinstance(ex, bool):
                continue
            where = path + ("examples", kind, j)
            norm = normalize(str(ex))
            if norm in seen and seen[norm] != kind:
                out.append(doc.problem(where, f"the example {str(ex)!r} is listed under both accept and reject"))
                continue
            seen[norm] = kind
            verdict = key_verdict(str(ex), accept, patterns)
            if kind == "accept" and verdict is None:
                out.append(doc.problem(where, f"the key rejects this accept example {str(ex)!r} (normalized: "
                                       f"{norm!r}); add it to accept or widen a pattern"))
            elif kind == "reject" and verdict is not None:
                out.append(doc.problem(where, f"the key accepts this reject example {str(ex)!r} ({verdict}); "
                                       "narrow the pattern or the accepted answers"))
    return out


def _free(doc: YamlDoc, path: tuple, q: dict, languages: list[str]) -> list[Problem]:
    """A free question: a translated model answer; rubric items with their own ids, adding up to the points."""
    out: list[Problem] = []
    if "model_answer" in q:
        out += _translation(doc, path + ("model_answer",), q["model_answer"], languages, prose=True)
    rubric = q.get("rubric")
    if not isinstance(rubric, list):
        return out
    out += _unique_ids(doc, path + ("rubric",), rubric, "rubric item")
    total = 0.0
    for j, item in enumerate(rubric):
        if not isinstance(item, dict):
            continue
        if "text" in item:
            out += _translation(doc, path + ("rubric", j, "text"), item["text"], languages, prose=True)
        pts = item.get("points")
        if isinstance(pts, (int, float)) and not isinstance(pts, bool):
            total += pts
    points = q.get("points")
    if isinstance(points, (int, float)) and not isinstance(points, bool) and rubric \
            and all(isinstance(i, dict) and isinstance(i.get("points"), (int, float)) for i in rubric) \
            and abs(total - points) > 1e-9:
        out.append(doc.problem(path + ("rubric",), f"the rubric items add up to {total:g} points but the question "
                               f"is worth {points:g}; make them equal", key=True))
    return out


def _numeric(doc: YamlDoc, path: tuple, q: dict) -> tuple[list[Problem], set[str]]:
    out: list[Problem] = []
    has_answer, has_formula = "answer" in q, "formula" in q
    params = q.get("params") if isinstance(q.get("params"), dict) else {}
    derived = q.get("derived") if isinstance(q.get("derived"), dict) else {}
    known = set(params) | set(derived)
    if not has_answer and not has_formula:
        out.append(doc.problem(path, "missing 'answer' in a numeric question (expected answer: a number, "
                               "or formula: an expression of the params)"))
    if has_answer and has_formula:
        out.append(doc.problem(path + ("formula",), "give either 'answer' or 'formula', not both", key=True))
    if (params or derived) and not has_formula:
        out.append(doc.problem(path + ("params" if params else "derived",),
                               "params need a 'formula' that computes the answer from them", key=True))

    good_params = {}
    for name, spec in params.items():
        problem = _param(doc, path + ("params", name), name, spec)
        if problem:
            out.append(problem)
        elif isinstance(spec, dict):
            good_params[name] = spec

    # derived values, in order, may use the params and the derived values before them
    compiled: list[tuple[str, expr.Expr]] = []
    visible = set(params)
    for name, src in derived.items():
        if name in params:
            out.append(doc.problem(path + ("derived", name), f"{name!r} is both a parameter and a derived "
                                   "value", key=True))
        e = _formula(doc, path + ("derived", name), src, visible, out)
        if e is not None:
            compiled.append((name, e))
        visible.add(name)
    formula = None
    if has_formula and isinstance(q["formula"], str):
        formula = _formula(doc, path + ("formula",), q["formula"], visible, out)

    if formula is not None and not out and len(good_params) == len(params):
        out += _try_draws(doc, path, good_params, compiled, formula)
    return out, known


def _param(doc: YamlDoc, path: tuple, name: str, spec: Any) -> Problem | None:
    if name in expr.RESERVED:
        return doc.problem(path, f"{name!r} is a function or constant of formulas; choose another "
                           "parameter name", key=True)
    if not isinstance(spec, dict):
        return None  # reported by the schema
    if "choices" in spec:
        if any(k in spec for k in ("min", "max", "step", "decimals")):
            return doc.problem(path, f"parameter {name!r}: give either choices or min/max, not both")
        if len(set(spec["choices"])) < 2:
            return doc.problem(path + ("choices",), f"parameter {name!r} has only one choice, so every "
                               "student would get the same number; give at least two")
        return None
    if "min" not in spec or "max" not in spec:
        return doc.problem(path, f"parameter {name!r} needs min and max (or choices)")
    lo, hi = spec["min"], spec["max"]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
        return None
    if lo > hi:
        return doc.problem(path + ("max",), f"parameter {name!r}: max ({hi}) is below min ({lo})")
    if "decimals" in spec:
        if "step" in spec:
            return doc.problem(path + ("step",), f"parameter {name!r}: step is for integers; with decimals "
                               "the values lie on a grid of 10**-decimals", key=True)
        count = round((hi - lo) * 10 ** spec["decimals"]) + 1 if isinstance(spec["decimals"], int) else 2
    else:
        if isinstance(lo, float) and not lo.is_integer() or isinstance(hi, float) and not hi.is_integer():
            return doc.problem(path, f"parameter {name!r}: min and max must be integers (or give decimals "
                               "for a float parameter)")
        step = spec.get("step", 1)
        count = (int(hi) - int(lo)) // step + 1 if isinstance(step, int) and step > 0 else 2
    if count < 2:
        return doc.problem(path, f"parameter {name!r} can take only one value, so every student would get "
                           "the same number; widen min..max")
    if count > MAX_VALUES:
        return doc.problem(path, f"parameter {name!r} can take {count} values; at most {MAX_VALUES}")
    return None


def _formula(doc: YamlDoc, path: tuple, src: Any, visible: set[str], out: list[Problem]) -> expr.Expr | None:
    if not isinstance(src, str):
        return None
    try:
        e = expr.parse(src)
    except expr.ExprError as exc:
        out.append(doc.problem(path, f"formula: {exc.message}", offset=exc.offset))
        return None
    bad = [n for n in e.names if n not in visible]
    for n in bad:
        out.append(doc.problem(path, f"formula names unknown variable {n!r} (declared: "
                               f"{', '.join(sorted(visible)) or 'none'})", offset=e.names[n]))
    return None if bad else e


def _try_draws(doc: YamlDoc, path: tuple, params: dict, derived: list, formula: expr.Expr) -> list[Problem]:
    """Evaluate the formula at the corners and at a sample of draws; report the first failure."""
    from .model import Param  # local: model imports nothing from here

    plist = [Param(name=n, min=s.get("min"), max=s.get("max"), step=s.get("step"),
                   decimals=s.get("decimals"), choices=tuple(s.get("choices", ()))) for n, s in params.items()]
    envs = [{p.name: p.values()[0] for p in plist}, {p.name: p.values()[-1] for p in plist}]
    stream = KeyedStream("validate", "sample", str(path[1]))
    for _ in range(SAMPLE_DRAWS):
        envs.append({p.name: stream.choice(p.values()) for p in plist})
    for env in envs:
        try:
            for name, e in derived:
                env[name] = e.evaluate(env)
            value = formula.evaluate(env)
        except expr.ExprError as exc:
            at = ", ".join(f"{k}={format_number(v)}" for k, v in env.items())
            return [doc.problem(path + ("formula",), f"formula fails for {at}: {exc.message}")]
        if not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")):
            return [doc.problem(path + ("formula",), f"formula gives {value} (not a finite number)")]
    return []
