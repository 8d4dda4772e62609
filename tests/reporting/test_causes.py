"""Root causes: failed checks grouped by known bug (one, or two at once), by the function they fail alike, by
quiz concept; most telling first. Plain records, no sandbox: the demo's real results are tested in
tests/test_demo.py and in the browser (tests/browser/test_reports.py)."""

from __future__ import annotations

from grader.reporting.causes import explains, root_causes
from grader.reporting.facts import CheckFacts, ItemFacts, reference_uses
from grader.reporting.feedback import feedback_markdown
from grader.results import CheckResult, SubmissionResult

REFERENCE = '''
__all__ = ["LSTMCell", "LSTM", "GRUCell", "GRU", "lstm_step", "gru_step"]

def _linear(x, w, b):
    return x

def lstm_step(x):
    return _linear(x, 1, 2)

def gru_step(x):
    return _linear(x, 1, 2)

class LSTMCell:
    def forward(self, x):
        return lstm_step(x)

class LSTM:
    def forward(self, x):
        return lstm_step(x)

class GRUCell:
    def forward(self, x):
        return gru_step(x)

class GRU:
    def forward(self, x):
        return gru_step(x)
'''


def facts() -> ItemFacts:
    f = ItemFacts("a2_gated", bugs={
        "softmax_wrong_axis": "your softmax runs over the queries: use dim=-1",
        "mask_after_softmax": "your code masks the weights after the softmax: mask the scores before it"})
    f.uses, f.contract = reference_uses(REFERENCE)
    for name, targets, kind in [
        ("test_lstmcell_values", ("LSTMCell",), "values"), ("test_lstmcell_gradients", ("LSTMCell",), "gradients"),
        ("test_lstm_values", ("LSTM",), "values"), ("test_lstm_masks", ("LSTM",), "masks"),
        ("test_both_values", ("LSTM", "GRU"), "values"), ("test_gru_values", ("GRU",), "values"),
        ("test_grucell_values", ("GRUCell",), "values"),
    ]:
        f.checks[name] = CheckFacts(targets, kind)
    return f


def check(name, status="failed", bug="", message="differs from the reference", kind="values", points=1.0):
    return CheckResult(name, points if status == "passed" else 0.0, points, status, "hidden", message, kind=kind,
                       bug=bug)


def result(*checks, error="") -> SubmissionResult:
    return SubmissionResult("bob", "a3_attention", checks=list(checks), max_score=float(len(checks)), error=error)


def test_two_bugs_at_once_count_for_both_and_the_one_that_explains_more_comes_first():
    r = result(check("t1", bug="softmax_wrong_axis"), check("t2", bug="softmax_wrong_axis"),
               check("t3", bug="softmax_wrong_axis+mask_after_softmax"),
               check("t4", bug="softmax_wrong_axis+mask_after_softmax"),
               check("t5", bug="softmax_wrong_axis+mask_after_softmax"), check("t6", "passed"))
    causes = root_causes(r, facts())
    assert [c.key for c in causes] == ["bug:softmax_wrong_axis", "bug:mask_after_softmax"]
    first, second = causes
    assert first.title == "your softmax runs over the queries" and first.detail == "use dim=-1"
    assert len(first.checks) == 5 and len(first.alone) == 2 and first.partners == ["bug:mask_after_softmax"]
    assert len(second.checks) == 3 and second.alone == []
    assert explains(first, 5, causes) == ("Fixing this is likely to fix 2 of your 5 failed checks; it is also part "
                                          "of 3 more, which need cause 2 fixed too.")
    assert explains(second, 5, causes) == "It is part of 3 of your 5 failed checks, each together with cause 1: fix both."


def test_undiagnosed_failures_of_functions_sharing_code_nothing_passing_uses_are_one_cause():
    r = result(check("test_lstmcell_values"), check("test_lstmcell_gradients", kind="gradients"),
               check("test_lstm_values"), check("test_lstm_masks", kind="masks"),
               check("test_both_values", message="LSTM(num_layers=2): output: differs from the reference"),
               check("test_gru_values", "passed"), check("test_grucell_values", "passed"))
    causes = root_causes(r, facts())
    assert [c.key for c in causes] == ["function:LSTM+LSTMCell"]
    assert len(causes[0].alone) == 5 and causes[0].kinds == ["values", "gradients", "masks"]
    assert "(lstm_step)" in causes[0].detail  # the contract name they share, never a private helper
    md = feedback_markdown(r, facts=facts())
    assert "LSTM and LSTMCell fail values, gradients and masks checks alike" in md.replace("\\", "")
    assert "Fixing this is likely to fix 5 of your 5 failed checks" in md.replace("\\", "")


def test_functions_whose_shared_code_a_passing_function_uses_stay_apart():
    """LSTM and GRU share only `_linear`, which GRUCell (passing) uses too: two causes, not one."""
    r = result(check("test_lstm_values"), check("test_lstm_masks", kind="masks"), check("test_gru_values"),
               check("test_grucell_values", "passed"), check("test_lstmcell_values", "passed"))
    assert sorted(c.key for c in root_causes(r, facts())) == ["function:GRU", "function:LSTM"]


def test_a_message_can_only_point_at_a_declared_target():
    """A check with several targets goes to the one its message names first; a name a student slips into the
    message (an exception text) that is not a target of the check changes nothing."""
    named = result(check("test_both_values", message="GRU(...): differs; LSTM fine"))
    assert [c.key for c in root_causes(named, facts())] == ["function:GRU"]
    hostile = result(check("test_both_values", message="your code raised RuntimeError: <img src=x> Evil("),
                     check("test_gru_values", "passed"))
    assert [c.key for c in root_causes(hostile, facts())] == ["function:GRU+LSTM"]


def test_the_sizes_a_public_check_used_do_not_point_at_a_function():
    """A failed public check's message ends with the module built and the call made last; only the text about
    which call differed counts."""
    sizes = "\n(sizes used: LSTM(input_size=3); LSTM(x [2, 3]))"
    named = result(check("test_both_values", message="Details: GRU(...) differs" + sizes))
    assert [c.key for c in root_causes(named, facts())] == ["function:GRU"]
    unnamed = result(check("test_both_values", message="the outputs differ from the reference" + sizes),
                     check("test_gru_values", "passed"))
    assert [c.key for c in root_causes(unnamed, facts())] == ["function:GRU+LSTM"]


def test_a_problem_that_stopped_checks_comes_first_and_one_that_stopped_none_last():
    stopped = result(check("test_lstm_values", "error", message="SyntaxError"), check("test_gru_values"),
                     error="bob/gated.py:3: SyntaxError: invalid syntax")
    causes = root_causes(stopped, facts())
    assert causes[0].kind == "problem" and [c.name for c in causes[0].checks] == ["test_lstm_values"]
    beside = result(check("test_gru_values"), error="answers.yaml:9: unknown question id 'q9'")
    assert [c.kind for c in root_causes(beside, facts())] == ["function", "problem"]
    nothing = SubmissionResult("dave", "q1", kind="quiz", max_score=3.0, error="dave.yaml:3: not valid YAML")
    only = root_causes(nothing, facts())
    assert [c.kind for c in only] == ["problem"] and explains(only[0], 0, only).startswith("Nothing could be")


def test_quiz_answers_are_grouped_by_concept_tag():
    f = ItemFacts("q2_gated", checks={"q1": CheckFacts(tags=("lstm", "gates")), "q2": CheckFacts(tags=("lstm",)),
                                       "q3": CheckFacts(tags=("gru",))})
    r = SubmissionResult("bob", "q2_gated", kind="quiz", max_score=3.0,
                         checks=[check("q1", kind=""), check("q2", kind=""), check("q3", "passed", kind="")])
    causes = root_causes(r, f)
    assert [c.key for c in causes] == ["concept:lstm", "concept:gates"]
    assert explains(causes[0], 2, causes) == "2 of your 2 wrong or partly wrong answers are about this concept."


def test_without_course_facts_each_check_is_its_own_cause_and_bugs_keep_their_id():
    r = result(check("t1", bug="inverted_mask"), check("t2"))
    causes = root_causes(r)
    assert [c.key for c in causes] == ["bug:inverted_mask", "check:t2"]
    assert causes[0].title == "inverted mask"


def test_feedback_opens_with_at_most_three_causes_numbered_in_the_table():
    r = result(*(check(f"t{i}", bug=f"bug_{i % 4}") for i in range(8)))
    md = feedback_markdown(r, facts=facts())
    causes_part, table = md.split("## Every check")
    assert causes_part.count("(known bug)") == 3 and "1 more cause below" in causes_part
    assert md.index("## Most likely causes") < md.index("## Every check")
    rows = [line for line in table.splitlines() if line.startswith("| `t")]
    assert [row.split(" | ")[5] for row in rows][:4] == ["1", "2", "3", "-"]


def test_an_undiagnosed_failure_of_a_function_a_known_bug_explains_goes_with_that_bug():
    """A property check (weights sum to 1 over the wrong axis) names no bug id; LSTM's other failures are the
    known bug: it joins that cause. GRU's undiagnosed failure stays apart (no bug explains GRU)."""
    r = result(check("test_lstm_values", bug="softmax_wrong_axis"), check("test_lstm_masks", kind="masks"),
               check("test_gru_values"), check("test_lstmcell_values", "passed"))
    causes = root_causes(r, facts())
    assert [(c.key, sorted(x.name for x in c.checks)) for c in causes] == [
        ("bug:softmax_wrong_axis", ["test_lstm_masks", "test_lstm_values"]), ("function:GRU", ["test_gru_values"])]
