"""Where the answers of the reference and of the known-bug variants come from.

`VariantCode`: in the grader, which has the reference and its catalogue
(`solutions/checks/<id>/bugs.py`): each call is run on the variant in-process
(`LocalRun`), and the answers are cached for the run, so a class that sends the
same requests pays for each variant's answers once. Another source (numbers
shipped with the public checks, for a student's machine) would implement the
same `AnswerSource` protocol.

`for_run` picks the source of a grading run.
"""

from __future__ import annotations

from typing import Iterator

import torch

from ..sandbox.client import CallResult

from .diagnose import UNKNOWN, Fingerprinter, KnownBug
from .local import LocalRun, Unanswerable, Weak
from .transcript import Transcript


class VariantCode:
    """Answers computed in the grader by running each call on the reference and its variants."""

    MAX_BYTES = 256 * 2**20  # tensors kept in the cache for the run (a class sends the same requests)

    def __init__(self, variants):
        self.variants = variants  # catalogue.Variants
        self._known = [KnownBug(b.id, b.says) for b in variants.bugs.values()]
        self._cache: dict[tuple[str, str], object] = {}
        self._bytes = 0

    def bugs(self) -> list[KnownBug]:
        return self._known

    def relevant(self, bug_id: str, transcript: Transcript) -> bool:
        return self.variants.reaches(bug_id, transcript.names())

    def answers(self, key: str, transcript: Transcript, digests: list[str]) -> Iterator[object]:
        run = None
        others: dict[int, tuple[LocalRun, int]] = {}  # seed -> (a replay from another random init, its next call)
        for k, call in enumerate(transcript.calls):
            ck = (key, digests[k])
            if ck in self._cache and run is None:
                yield self._cache[ck]
                continue
            if run is None:  # a request not seen before: replay this check from its first call
                run = LocalRun(self.variants.module(key))
                try:
                    for earlier in transcript.calls[:k]:
                        run.answer(earlier)
                except Unanswerable:
                    yield UNKNOWN
                    return
            try:
                answer = run.answer(call)
            except Unanswerable:
                yield UNKNOWN
                return
            if isinstance(answer, Weak):
                answer = Weak(answer.answer, self._alternatives(key, transcript, k, others))
            size = _nbytes(answer)
            if self._bytes + size > self.MAX_BYTES:
                self._cache.clear()
                self._bytes = 0
            self._cache[ck] = answer
            self._bytes += size
            yield answer

    def _alternatives(self, key: str, transcript: Transcript, k: int, others: dict) -> tuple:
        """The answers to call `k` of replays from other random initialisations (ALTERNATIVE_SEEDS)."""
        found = []
        for seed in ALTERNATIVE_SEEDS:
            run, done = others.get(seed) or (LocalRun(self.variants.module(key), seed=seed), 0)
            try:
                for earlier in transcript.calls[done:k]:
                    run.answer(earlier)
                answer = run.answer(transcript.calls[k])
            except Unanswerable:
                continue
            others[seed] = (run, k + 1)
            if isinstance(answer, Weak):
                found.append(answer.answer)
        return tuple(found)


ALTERNATIVE_SEEDS = (1, 2, 3)  # the replays from other random initialisations behind a `Weak` answer


def _nbytes(v) -> int:
    """The bytes of the tensors an answer holds (what caching it costs)."""
    if isinstance(v, torch.Tensor):
        return v.numel() * v.element_size()
    if isinstance(v, CallResult):
        return _nbytes(v.value) + _nbytes(v.input_grads) + _nbytes(v.param_grads)
    if isinstance(v, Weak):
        return _nbytes(v.answer)
    if isinstance(v, (list, tuple)):
        return sum(_nbytes(x) for x in v)
    if isinstance(v, dict):
        return sum(_nbytes(x) for x in v.values())
    return 0


def for_run(assignment, hidden: bool) -> Fingerprinter:
    """The fingerprinter of a grading run: known bugs from the catalogue when the hidden material is at
    hand (instructor grading); missing functions only without it (`seqgrade check` on a student's machine)."""
    from .catalogue import Variants, catalogue_path, load_bugs

    if hidden:
        bugs = load_bugs(catalogue_path(assignment.hidden_checks))
        if bugs:
            return Fingerprinter(VariantCode(Variants(assignment.reference, bugs, assignment.module)))
    return Fingerprinter()
