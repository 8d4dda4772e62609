"""The parts of bug fingerprints, without a sandbox: comparing answers, request digests, replaying calls
on a trusted module, which definitions a patch reaches, the catalogue, missing functions."""

from __future__ import annotations

import textwrap
import types

import pytest
import torch

from grader.errors import ConfigError
from grader.fingerprints import Bug
from grader.fingerprints.answers import request_digests, same
from grader.fingerprints.catalogue import Variants, load_bugs
from grader.fingerprints.local import LocalRun, Raised, Weak
from grader.fingerprints.missing import MissingFunctions
from grader.fingerprints.transcript import Call, Transcript
from grader.sandbox.client import CallResult
from grader.sandbox.wire import GradInput, Ref

F64 = torch.float64

MODULE = textwrap.dedent('''
    import torch
    from torch import nn

    def step(x, w):
        return torch.tanh(x @ w.t())

    class Cell(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(n, n, dtype=torch.float64))

        def forward(self, x):
            return step(x, self.w)

    class Other(nn.Module):
        def forward(self, x):
            return x * 2

    def helper_unused():
        return 1
''')


def _module(source: str = MODULE) -> types.ModuleType:
    m = types.ModuleType("fp_test_module")
    exec(compile(source, "fp_test_module", "exec"), m.__dict__)
    return m


# ----------------------------------------------------------------------------- same()
def test_same_tolerates_rounding_but_not_a_different_value():
    a = torch.tensor([1.0, 2.0], dtype=F64)
    assert same(a, a + 1e-9)
    assert not same(a, a + 1e-3)
    assert not same(a, a.float()), "a different dtype is a different answer"
    assert not same(a, a[:1])


def test_same_wants_nan_where_the_other_has_nan():
    a = torch.tensor([float("nan"), 1.0], dtype=F64)
    assert same(a, a.clone())
    assert not same(a, torch.tensor([0.0, 1.0], dtype=F64))


def test_same_compares_structure_and_gradients():
    g = torch.ones(2, dtype=F64)
    r1 = CallResult(value=(g, None), input_grads=[g], param_grads={"w": g})
    assert same(r1, CallResult(value=(g.clone(), None), input_grads=[g.clone()], param_grads={"w": g.clone()}))
    assert not same(r1, CallResult(value=(g, None), input_grads=[None], param_grads={"w": g}))
    assert not same(r1, CallResult(value=[g, None], input_grads=[g], param_grads={"w": g}))


def test_weak_answers_compare_structure_only():
    a = torch.zeros(3, 4, dtype=F64)
    assert same(a, Weak(torch.ones(3, 5, dtype=F64)))
    assert not same(a, Weak(torch.ones(3, dtype=F64)))
    assert not same(a, Weak(torch.ones(3, 4)))


def test_exceptions_agree_by_type_and_message_without_numbers():
    assert same(Raised.of("RuntimeError", "shapes (6x5 and 14x7)"), Raised.of("RuntimeError", "shapes (9x4 and 6x3)"))
    assert not same(Raised.of("RuntimeError", "shapes (6x5)"), Raised.of("ValueError", "shapes (6x5)"))
    assert not same(Raised.of("RuntimeError", "shapes"), Raised.of("RuntimeError", "dtypes"))


# ----------------------------------------------------------------------------- digests
def _transcript(x, ids=(7,)):
    return Transcript("t", [Call("new", "Cell", (3,), {"dtype": None}, answer=Ref(ids[0]), done=True),
                            Call("call", Ref(ids[0]), (x,), {"backward": None}, done=True)])


def test_digests_follow_the_requests_not_the_handle_numbers():
    x = torch.randn(2, 3, dtype=F64)
    a, b = request_digests(_transcript(x)), request_digests(_transcript(x.clone(), ids=(12,)))
    assert a == b
    c = request_digests(_transcript(x + 1))
    assert a[0] == c[0] and a[1] != c[1]


def test_digest_of_a_handle_made_elsewhere_is_none():
    t = Transcript("t", [Call("call", Ref(99), (torch.zeros(1),), {}, done=True)])
    assert request_digests(t) is None


# ----------------------------------------------------------------------------- LocalRun
def test_local_run_answers_as_the_child_does():
    mod = _module()
    run = LocalRun(mod)
    w = torch.randn(3, 3, dtype=F64)
    x = torch.randn(2, 3, dtype=F64)
    assert isinstance(run.answer(Call("new", "Cell", (3,), {}, answer=Ref(5))), Ref)
    assert run.answer(Call("load_state_dict", Ref(5), ({"w": w},), {"strict": True})) == \
        {"missing": [], "unexpected": []}
    g = torch.ones(2, 3, dtype=F64)
    r = run.answer(Call("call", Ref(5), (GradInput(x),), {"backward": g}))
    expected = torch.tanh(x @ w.t())
    assert isinstance(r, CallResult) and torch.allclose(r.value, expected)
    assert torch.allclose(r.input_grads[0], (g * (1 - expected ** 2)) @ w)
    assert set(r.param_grads) == {"w"}
    assert not x.requires_grad, "the check's own tensors are never touched"


def test_local_run_marks_answers_of_unset_weights_weak_and_reports_exceptions():
    run = LocalRun(_module())
    run.answer(Call("new", "Cell", (3,), {}, answer=Ref(1)))
    assert isinstance(run.answer(Call("call", Ref(1), (torch.zeros(2, 3, dtype=F64),), {})), Weak)
    raised = run.answer(Call("call", Ref(1), (torch.zeros(2, 4, dtype=F64),), {}))
    assert isinstance(raised, Raised) and raised.type_name == "RuntimeError"
    run.answer(Call("new", "Other", (), {}, answer=Ref(2)))
    assert not isinstance(run.answer(Call("call", Ref(2), (torch.ones(1),), {})), Weak), "no parameters"


RANDOM_INIT = textwrap.dedent('''
    import torch
    from torch import nn

    class Decoder(nn.Module):
        """Decodes until its (random) score says stop: the output's length depends on the weights."""

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(8))

        def forward(self, x):
            n = 1 + int((self.w > 0).sum())  # 1..9 tokens
            return (x.sum() * torch.ones(1, n)).squeeze()  # one token: a 0-d tensor
''')


def test_a_local_run_draws_from_its_own_random_stream():
    """A replay's random initialisation depends on its seed only, not on what the grader drew before,
    and the grader's own random state is left as it was."""
    mod = _module(RANDOM_INIT)

    def weights(seed_before: int, seed: int = 0):
        torch.manual_seed(seed_before)
        run = LocalRun(mod, seed=seed)
        run.answer(Call("new", "Decoder", (), {}, answer=Ref(1)))
        state = torch.get_rng_state()
        torch.rand(1)  # the grader goes on drawing
        ref = run.answer(Call("call", Ref(1), (torch.ones(1),), {}))
        return run.objects[1].w.detach().clone(), ref, state

    w1, _, _ = weights(1)
    w2, _, _ = weights(2)
    assert torch.equal(w1, w2), "the grader's earlier draws changed a replay"
    assert not torch.equal(w1, weights(1, seed=5)[0]), "another seed, another initialisation"
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    run = LocalRun(mod)
    run.answer(Call("new", "Decoder", (), {}, answer=Ref(1)))
    assert torch.equal(torch.rand(4), expected), "a replay disturbed the grader's random state"


def test_a_weak_answer_whose_structure_depends_on_the_weights_agrees_with_any_initialisation():
    """The student's 1-d answer agrees with a variant whose replay gave a 0-d tensor at seed 0 but a 1-d
    one from another initialisation (the greedy_output_squeezed flake: a variant that met EOS at once)."""
    one_token, tokens = torch.tensor(1.0), torch.ones(4)
    assert not same(tokens, Weak(one_token))
    assert same(tokens, Weak(one_token, (torch.ones(3),)))
    assert not same(tokens, Weak(one_token, (torch.tensor(2.0),)))


def test_variant_code_gives_weak_answers_their_alternatives(tmp_path):
    from grader.fingerprints.sources import ALTERNATIVE_SEEDS, VariantCode

    class Variants:
        bugs = {}

        def module(self, key):
            return _module(RANDOM_INIT)

    t = Transcript("t", [Call("new", "Decoder", (), {}, answer=Ref(1), done=True),
                         Call("call", Ref(1), (torch.ones(1),), {}, done=True)])
    answers = list(VariantCode(Variants()).answers("", t, request_digests(t)))
    weak = answers[1]
    assert isinstance(weak, Weak) and len(weak.alternatives) == len(ALTERNATIVE_SEEDS)
    shapes = {tuple(a.value.shape) for a in weak.candidates()}
    assert len(shapes) > 1, f"the seeds all gave one structure: {shapes}"


# ----------------------------------------------------------------------------- catalogue
def test_a_patch_reaches_its_definition_and_those_that_use_it(tmp_path):
    ref = tmp_path / "ref.py"
    ref.write_text(MODULE)
    v = Variants(ref, [Bug("in_step", [("torch.tanh(x @ w.t())", "x @ w.t()")], "says"),
                       Bug("in_other", [("return x * 2", "return x * 3")], "says"),
                       Bug("module_level", [("from torch import nn", "from torch import nn  # changed")], "says")],
                 "fp_reach")
    assert v.reaches("in_step", {"Cell"}) and v.reaches("in_step", {"step"})
    assert not v.reaches("in_step", {"Other"})
    assert v.reaches("in_other", {"Other"}) and not v.reaches("in_other", {"Cell"})
    assert v.reaches("module_level", {"Other"}), "a change outside every definition reaches everything"
    assert torch.equal(v.module("in_step").step(torch.ones(1, 1), torch.ones(1, 1)), torch.ones(1, 1))


def test_a_patch_must_match_exactly_once():
    with pytest.raises(ConfigError, match="occurs 0 times"):
        Bug("b", [("not there", "x")], "says").apply(MODULE)
    with pytest.raises(ValueError):
        Bug("b", [("x", "y")], "  ")


def test_catalogue_ids_are_unique(tmp_path):
    (tmp_path / "bugs.py").write_text("from grader.fingerprints import Bug\n"
                                      "BUGS = [Bug('a', [], 'x'), Bug('a', [], 'y')]\n")
    with pytest.raises(ConfigError, match="repeated: a"):
        load_bugs(tmp_path / "bugs.py")
    assert load_bugs(tmp_path / "none.py") == []


# ----------------------------------------------------------------------------- missing functions
def _stopped(method="beam_search", where="seq2seq.py:300 in beam_search", raised="NotImplementedError"):
    return Transcript("c", [Call("new", "Seq2Seq", (), {}, answer=Ref(3), done=True),
                            Call("call", Ref(3), (), {"method": method}, raised=raised, where=where,
                                 message="TODO: Seq2Seq.beam_search", done=True)])


def test_missing_function_is_named_once_then_pointed_to():
    m = MissingFunctions()
    first = m.explain("test_beam_search", _stopped())
    assert first.startswith("Seq2Seq.beam_search is not written yet: it raises NotImplementedError")
    assert m.explain("test_public_beam_data", _stopped()) == (
        "needs Seq2Seq.beam_search, which is not written yet (reported in test_beam_search); this check "
        "scores 0 until it is")
    assert m.explain("c", _stopped(raised="RuntimeError")) == ""


def test_a_hostile_location_does_not_reach_the_name():
    m = MissingFunctions()
    msg = m.explain("c", _stopped(where="x.py:1 in <script>alert(1)</script>"))
    assert "script" not in msg.split(" is not written")[0]


# ----------------------------------------------------------------------------- two bugs at once
def test_a_variant_with_two_bugs_applies_both_and_reaches_what_both_reach(tmp_path):
    ref = tmp_path / "ref.py"
    ref.write_text(MODULE)
    v = Variants(ref, [Bug("no_tanh", [("torch.tanh(x @ w.t())", "x @ w.t()")], "says"),
                       Bug("no_transpose", [("def step(x, w):", "def step(x, w):\n    w = w.t()")], "says"),
                       Bug("relu", [("torch.tanh(x @ w.t())", "torch.relu(x @ w.t())")], "says"),
                       Bug("triple", [("return x * 2", "return x * 3")], "says")], "fp_pairs")
    w = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=F64)
    x = torch.tensor([[1.0, 1.0]], dtype=F64)
    both = v.module("no_tanh+no_transpose").step(x, w)
    assert torch.equal(both, x @ w), "both patches applied: no tanh, and w transposed before w.t()"
    assert v.reaches("no_tanh+no_transpose", {"Cell"})
    assert not v.reaches("no_tanh+triple", {"Cell"}), "a pair reaches a check only when both bugs do"
    with pytest.raises(ConfigError):
        v.module("no_tanh+relu")  # the same line changed twice: no variant has both


def test_a_check_that_no_single_bug_explains_is_named_by_a_pair_with_a_bug_already_named():
    from grader.fingerprints.diagnose import UNKNOWN, Fingerprinter, KnownBug, _Ran
    from grader.results import CheckResult, SubmissionResult

    x = torch.ones(2, dtype=F64)

    def transcript(name, answer):
        return Transcript(name, [Call("call", "step", (x,), {}, answer=CallResult(answer), done=True)])

    answers = {"": 1.0, "a": 2.0, "b": 3.0, "c": 4.0, "a+b": 5.0, "a+c": 6.0}

    class Source:
        def bugs(self):
            return [KnownBug(k, f"bug {k}: says") for k in ("a", "b", "c")]

        def relevant(self, bug_id, t):
            return True

        def answers(self, key, t, digests):
            if key not in answers:
                yield UNKNOWN
                return
            yield CallResult(torch.full((2,), answers[key], dtype=F64))

    fp = Fingerprinter(Source())
    names = ("one", "pair", "none", "reference")
    result = SubmissionResult("s", "a1", checks=[CheckResult(n, 0.0, 1.0, "failed", "hidden", "differs")
                                                 for n in names])
    fp._ran = [_Ran(n, "failed", transcript(n, torch.full((2,), v, dtype=F64)))
               for n, v in zip(names, (2.0, 5.0, 9.0, 1.0))]
    answers["a+c"] = 1.0  # a pair whose bugs cancel out on this check, as the reference answers
    fp.finish(result)
    one, pair, none, reference = result.checks
    assert one.bug == "a" and one.message.startswith("Known bug: bug a: says")
    assert pair.bug == "a+b" and pair.message.startswith("Known bugs, both at once: bug a: says; and bug b: says")
    assert none.bug == "" and none.message == "differs"
    assert reference.bug == "", "answers that are the reference's name no bug (the check judged something else)"


def test_every_option_of_a_remote_call_is_kept_from_the_replayed_arguments():
    """An option that steers a call (count_ops, measure_cpu, ...) must never reach a replayed reference variant
    as an argument: `CALL_OPTIONS` names every keyword `SubmissionProcess.call` takes besides the student's."""
    import inspect

    from grader.checks.submission import CALL_OPTIONS
    from grader.sandbox.client import SubmissionProcess

    params = inspect.signature(SubmissionProcess.call).parameters.values()
    options = {p.name for p in params if p.kind == p.KEYWORD_ONLY}
    assert options and options <= set(CALL_OPTIONS), options - set(CALL_OPTIONS)
