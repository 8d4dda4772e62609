"""Does a quiz measure knowledge, or test-taking skill? `seqgrade quiz lint` measures it.

For the selected-response questions of a quiz (single, multiple, true_false),
each test-wise strategy below is scored as a fraction of their points, in
each language, and compared with chance (answering at random):

| strategy | single choice | multiple choice | true/false |
|---|---|---|---|
| longest option | the longest | the longest half | at random |
| shortest option | the shortest | the shortest half | at random |
| words shared with the prompt | most shared | the half sharing most | at random |
| a fixed position | option k (best k) | option k alone (best k) | at random |
| always true / always false | at random | at random | true / false |
| all options | at random | every option | at random |

"At random" is chance: 1/n for single choice, 1/2 for true/false, and for
multiple choice the mean score of a random non-empty set of options. Ties
(two options of the same length) count as a random pick among them; "half"
is n // 2 options. A strategy may beat chance by at most `LIMIT` (10
percentage points). Positions count in the file's order: shuffling hides
them from students who get their own order, not from a printed copy or a
notebook that the whole class shares.

Besides the strategies, per question and per quiz:
- option lengths balanced: the shortest option at least half the longest, in
  every language (unless all are within `SHORT_SLACK` characters);
- true/false answers 40-60% true in the quiz;
- leakage: no question's title, prompt, options, items or explanation shows
  another question's key phrase (its correct options' texts, its accepted
  short answers, its `key_phrases`);
- short answers: at least `MIN_EXAMPLES` accept and reject examples in every
  course language (validation proves each one against the key);
- at least one free (open) question.

`lint_quiz` returns the numbers and the problems; it never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable

from .grading import multiple_fraction
from .model import FreeAnswer, MultipleChoice, Option, Question, Quiz, ShortAnswer, SingleChoice, TrueFalse
from .normalize import normalize
from .yamlsrc import Problem

LIMIT = 0.10  # a strategy may beat chance by this much (10 percentage points), no more
TRUE_SHARE = (0.4, 0.6)  # the share of true/false questions whose answer is true
MIN_EXAMPLES = 6  # accept and reject examples per language, per short question
BALANCE = 0.5  # the shortest option is at least this fraction of the longest
SHORT_SLACK = 8  # ... unless the longest and the shortest differ by at most this many characters
MIN_PHRASE = 4  # key phrases shorter than this (after normalization) are not checked for leaks

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z][a-z0-9_']{2,}")
_STOP = frozenset("""the and for with that this are was were from into its not but can has have had than then
which what when where who whom how does did each every one two any all more most less such only also their there
these those they them other about over under after before between while being been will would should could may
might must same some very just your you our his her him she use used using true false""".split())


@dataclass
class StrategyScore:
    """One strategy's score on a quiz, as a fraction of the selected-response points, per language."""

    name: str
    label: str
    score: dict[str, float]  # language -> fraction
    chance: float

    @property
    def worst(self) -> float:
        return max(self.score.values()) if self.score else 0.0

    @property
    def margin(self) -> float:
        """How far the strategy beats chance (fraction; negative when it does worse)."""
        return self.worst - self.chance

    @property
    def ok(self) -> bool:
        return self.margin <= LIMIT + 1e-9


@dataclass
class LintReport:
    quiz: str
    file: str
    points: float  # selected-response points
    questions: int  # selected-response questions
    chance: float
    strategies: list[StrategyScore] = field(default_factory=list)
    true_false: tuple[int, int] = (0, 0)  # (answered true, all)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- strategies on one question ------------------------------------------------

def _chance(q: Question) -> float:
    if isinstance(q, SingleChoice):
        return 1 / len(q.options)
    if isinstance(q, TrueFalse):
        return 0.5
    if isinstance(q, MultipleChoice):
        ids = [o.id for o in q.options]
        subsets = [frozenset(c) for k in range(1, len(ids) + 1) for c in combinations(ids, k)]
        return sum(multiple_fraction(q.correct_ids, s, q.scoring) for s in subsets) / len(subsets)
    raise TypeError(type(q).__name__)


def _top(q: SingleChoice | MultipleChoice, key: Callable[[Option], float]) -> float:
    """Expected score of picking the options with the largest key (one, or the top half), ties at random."""
    keys = {o.id: key(o) for o in q.options}
    if isinstance(q, SingleChoice):
        best = max(keys.values())
        tied = [o for o in q.options if keys[o.id] == best]
        return sum(o.correct for o in tied) / len(tied)
    m = max(1, len(q.options) // 2)
    ranked = sorted(keys.values(), reverse=True)
    threshold = ranked[m - 1]
    sure = [o.id for o in q.options if keys[o.id] > threshold]
    tied = [o.id for o in q.options if keys[o.id] == threshold]
    picks = [frozenset(sure) | frozenset(c) for c in combinations(tied, m - len(sure))]
    return sum(multiple_fraction(q.correct_ids, p, q.scoring) for p in picks) / len(picks)


def tokens(text: str) -> set[str]:
    """Content words (English, three letters or more, no stop words) and Chinese character pairs."""
    norm = normalize(text)
    words = {w for w in _WORD.findall(norm) if w not in _STOP}
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", norm):
        words |= {run[i:i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    return words


def _by_strategy(q: Question, lang: str, name: str, position: int = 0) -> float | None:
    """The expected fraction strategy `name` earns on `q` in `lang`; None where it does not apply."""
    if isinstance(q, TrueFalse):
        if name == "always_true":
            return 1.0 if q.answer else 0.0
        if name == "always_false":
            return 0.0 if q.answer else 1.0
        return None
    if not isinstance(q, (SingleChoice, MultipleChoice)):
        return None
    if name == "longest":
        return _top(q, lambda o: len(o.text.get(lang).strip()))
    if name == "shortest":
        return _top(q, lambda o: -len(o.text.get(lang).strip()))
    if name == "overlap":
        shown = tokens(q.prompt.get(lang) + " " + (q.title.get(lang) if q.title.by_lang else ""))
        return _top(q, lambda o: len(tokens(o.text.get(lang)) & shown))
    if name == "position":
        if position >= len(q.options):
            return None
        o = q.options[position]
        if isinstance(q, SingleChoice):
            return 1.0 if o.correct else 0.0
        return multiple_fraction(q.correct_ids, frozenset({o.id}), q.scoring)
    if name == "all_options" and isinstance(q, MultipleChoice):
        return multiple_fraction(q.correct_ids, frozenset(o.id for o in q.options), q.scoring)
    return None


STRATEGIES = (
    ("longest", "longest option"),
    ("shortest", "shortest option"),
    ("overlap", "most words shared with the prompt"),
    ("position", "a fixed position"),
    ("always_true", "always true"),
    ("always_false", "always false"),
    ("all_options", "all options (multiple choice)"),
)


def _selected(quiz: Quiz) -> list[Question]:
    return [q for q in quiz.questions if isinstance(q, (SingleChoice, MultipleChoice, TrueFalse))]


def _score(questions: list[Question], lang: str, name: str, position: int = 0) -> float:
    total = sum(q.points for q in questions)
    got = 0.0
    for q in questions:
        f = _by_strategy(q, lang, name, position)
        got += q.points * (_chance(q) if f is None else f)
    return got / total if total else 0.0


def strategy_scores(quiz: Quiz, languages: list[str]) -> tuple[list[StrategyScore], float]:
    """Every strategy's score on `quiz`, and chance, as fractions of the selected-response points."""
    questions = _selected(quiz)
    total = sum(q.points for q in questions)
    chance = sum(q.points * _chance(q) for q in questions) / total if total else 0.0
    out = []
    for name, label in STRATEGIES:
        if name == "position":
            width = max((len(getattr(q, "options", ())) for q in questions), default=0)
            best, best_k = -1.0, 0
            for k in range(width):
                s = _score(questions, languages[0], "position", k)
                if s > best:
                    best, best_k = s, k
            ids = sorted({q.options[best_k].id for q in questions
                          if isinstance(q, (SingleChoice, MultipleChoice)) and best_k < len(q.options)})
            label = f"a fixed position (best: #{best_k + 1}, {'/'.join(ids)})" if width else label
            out.append(StrategyScore(name, label, {lang: max(best, 0.0) for lang in languages}, chance))
            continue
        out.append(StrategyScore(name, label, {lang: _score(questions, lang, name) for lang in languages}, chance))
    return out, chance


# -- the other checks -----------------------------------------------------------

def _problem(quiz: Quiz, q: Question | None, message: str) -> Problem:
    return Problem(quiz.file or quiz.id, q.line if q is not None else 1, 1, message)


def _balance(quiz: Quiz, languages: list[str]) -> list[Problem]:
    out = []
    for q in quiz.questions:
        if not isinstance(q, (SingleChoice, MultipleChoice)):
            continue
        for lang in languages:
            lengths = {o.id: len(o.text.get(lang).strip()) for o in q.options}
            lo, hi = min(lengths.values()), max(lengths.values())
            if hi - lo > SHORT_SLACK and lo < BALANCE * hi:
                short = min(lengths, key=lengths.get)
                long = max(lengths, key=lengths.get)
                out.append(_problem(quiz, q, f"question {q.id!r}: option lengths are unbalanced in {lang} "
                                    f"({short!r} has {lo} characters, {long!r} {hi}); the shortest must be at "
                                    f"least half the longest, so that length gives nothing away"))
                break
    return out


def _true_share(quiz: Quiz) -> tuple[tuple[int, int], list[Problem]]:
    tf = [q for q in quiz.questions if isinstance(q, TrueFalse)]
    n_true = sum(q.answer for q in tf)
    if not tf:
        return (0, 0), []
    share = n_true / len(tf)
    if TRUE_SHARE[0] - 1e-9 <= share <= TRUE_SHARE[1] + 1e-9:
        return (n_true, len(tf)), []
    return (n_true, len(tf)), [_problem(quiz, tf[0], f"{n_true} of {len(tf)} true/false answers are true "
                                       f"({share:.0%}); keep between {TRUE_SHARE[0]:.0%} and {TRUE_SHARE[1]:.0%}, "
                                       "so that always answering one way earns only chance")]


def key_phrases(q: Question) -> list[str]:
    """What answers `q`: its `key_phrases`, its correct options' texts, its accepted short answers."""
    phrases = list(q.key_phrases)
    if isinstance(q, (SingleChoice, MultipleChoice)):
        for o in q.options:
            if o.correct:
                phrases += o.text.all()
    if isinstance(q, ShortAnswer):
        phrases += list(q.accept)
    out: list[str] = []
    for p in phrases:
        if len(normalize(p)) >= MIN_PHRASE and p not in out:
            out.append(p)
    return out


def shown_texts(q: Question) -> list[tuple[str, str]]:
    """(where, text) of everything of `q` a student may read: title, prompt, options, items, explanation."""
    out = []
    for name in ("title", "prompt", "explanation"):
        out += [(name, s) for s in getattr(q, name).all()]
    for o in getattr(q, "options", ()):
        out += [(f"option {o.id!r}", s) for s in o.text.all()]
    for i in getattr(q, "items", ()):
        out += [(f"item {i.id!r}", s) for s in i.text.all()]
    return out


def _leaks(quiz: Quiz) -> list[Problem]:
    out = []
    phrases = {q.id: [(p, normalize(p)) for p in key_phrases(q)] for q in quiz.questions}
    for q in quiz.questions:
        seen = set()
        for where, text in shown_texts(q):
            norm = normalize(text)
            for other in quiz.questions:
                if other is q:
                    continue
                for raw, p in phrases[other.id]:
                    if p in norm and (where, other.id, p) not in seen:
                        seen.add((where, other.id, p))
                        out.append(_problem(quiz, q, f"the {where} of question {q.id!r} contains {raw!r}, which "
                                            f"answers question {other.id!r}; reword one of them"))
    return out


def _is_lang(text: str, lang: str) -> bool:
    has_cjk = bool(_CJK.search(text))
    return has_cjk if lang in ("zh", "ja", "ko") else not has_cjk


def _examples(quiz: Quiz, languages: list[str]) -> list[Problem]:
    out = []
    for q in quiz.questions:
        if not isinstance(q, ShortAnswer):
            continue
        for kind, examples in (("accept", q.examples_accept), ("reject", q.examples_reject)):
            for lang in languages:
                n = sum(_is_lang(e, lang) for e in examples)
                if n < MIN_EXAMPLES:
                    out.append(_problem(quiz, q, f"question {q.id!r} has {n} {kind} example(s) in {lang}; give at "
                                        f"least {MIN_EXAMPLES} (examples: {{accept: [...], reject: [...]}}), so that "
                                        "the key is proven on real answers"))
    return out


def _free(quiz: Quiz) -> list[Problem]:
    if any(isinstance(q, FreeAnswer) for q in quiz.questions):
        return []
    return [Problem(quiz.file or quiz.id, 1, 1, f"quiz {quiz.id!r} has no free question; add at least one open "
                    "question with a rubric (type: free)")]


# -- the whole quiz -------------------------------------------------------------

def lint_quiz(quiz: Quiz, languages: list[str] | None = None) -> LintReport:
    """The guessability numbers of `quiz` and every lint problem found."""
    languages = [lang for lang in (languages or ["en", "zh"])]
    questions = _selected(quiz)
    strategies, chance = strategy_scores(quiz, languages)
    report = LintReport(quiz.id, quiz.file, sum(q.points for q in questions), len(questions), chance, strategies)
    for s in strategies:
        if not s.ok:
            lang = max(s.score, key=s.score.get)
            report.problems.append(Problem(
                quiz.file or quiz.id, 1, 1,
                f"test-wise strategy '{s.label}' scores {s.worst:.1%} in {lang} against chance {s.chance:.1%}: "
                f"{s.margin * 100:+.1f} percentage points, more than the {LIMIT * 100:.0f} allowed"))
    report.true_false, tf = _true_share(quiz)
    report.problems += tf + _balance(quiz, languages) + _leaks(quiz) + _examples(quiz, languages) + _free(quiz)
    report.problems.sort(key=lambda p: (p.line, p.message))
    return report


def format_report(r: LintReport) -> list[str]:
    """The numbers of a report as lines of text (for `seqgrade quiz lint`)."""
    langs = list(r.strategies[0].score) if r.strategies else []
    lines = [f"{r.quiz}: {r.questions} selected-response question(s), {r.points:g} points; chance {r.chance:.1%}, "
             f"limit {r.chance + LIMIT:.1%}"]
    head = f"  {'strategy':<44}" + "".join(f"{lang:>8}" for lang in langs) + f"{'chance':>8}{'margin':>9}"
    lines.append(head)
    for s in r.strategies:
        row = f"  {s.label:<44}" + "".join(f"{s.score[lang]:>8.1%}" for lang in langs)
        row += f"{s.chance:>8.1%}{s.margin * 100:>+7.1f}pp  {'ok' if s.ok else 'TOO HIGH'}"
        lines.append(row)
    n_true, n = r.true_false
    if n:
        lines.append(f"  true/false answers: {n_true} of {n} true ({n_true / n:.0%})")
    return lines
