"""The course config: late-policy arithmetic, and malformed course.yaml named by file:line:col."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.config import SECRET_ENV, LatePolicy, load_config
from grader.errors import ConfigError

HOUR, DAY = 3600.0, 86400.0
REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "course.yaml"
    p.write_text(text, encoding="utf-8")
    return p


# -- late policy ----------------------------------------------------------------------

@pytest.mark.parametrize("policy,late_s,expected", [
    (LatePolicy("none"), 10 * DAY, 0.0),
    (LatePolicy("zero"), 1.0, 1.0),
    (LatePolicy("zero"), 100 * DAY, 1.0),
    (LatePolicy("zero", grace_minutes=10), 9 * 60, 0.0),
    (LatePolicy("zero", grace_minutes=10), 11 * 60, 1.0),
    (LatePolicy("per_hour", penalty=0.05), 1.0, 0.05),
    (LatePolicy("per_hour", penalty=0.05), HOUR, 0.05),
    (LatePolicy("per_hour", penalty=0.05), HOUR + 1, 0.10),
    (LatePolicy("per_hour", penalty=0.05, cap=0.2), 10 * HOUR, 0.2),
    (LatePolicy("per_day", penalty=0.1, cap=0.5), 1.0, 0.1),
    (LatePolicy("per_day", penalty=0.1, cap=0.5), 2 * DAY + 1, 0.3),
    (LatePolicy("per_day", penalty=0.1, cap=0.5), 30 * DAY, 0.5),
    (LatePolicy("per_day", penalty=0.1, cap=0.5, grace_minutes=15), 14 * 60, 0.0),
    (LatePolicy("per_day", penalty=0.1, cap=0.5, grace_minutes=15), 15 * 60, 0.0),
    (LatePolicy("per_day", penalty=0.1, cap=0.5, grace_minutes=15), 16 * 60, 0.1),
    (LatePolicy("per_day", penalty=0.4, cap=5.0), 5 * DAY, 1.0),
    (LatePolicy("per_day", penalty=0.1), 0.0, 0.0),
    (LatePolicy("per_day", penalty=0.1), -DAY, 0.0),
], ids=["none-never", "zero-one-second", "zero-long", "zero-within-grace", "zero-after-grace",
        "hour-one-second", "hour-exactly-one", "hour-started-second", "hour-capped",
        "day-one-second", "day-started-third", "day-capped", "day-within-grace", "day-grace-boundary",
        "day-after-grace", "never-more-than-everything", "on-time", "early"])
def test_late_fraction(policy, late_s, expected):
    assert policy.fraction(late_s) == pytest.approx(expected)


_policies = st.builds(
    LatePolicy,
    kind=st.sampled_from(["none", "zero", "per_hour", "per_day"]),
    penalty=st.floats(0.0, 1.0),
    cap=st.floats(0.0, 1.0),
    grace_minutes=st.floats(0.0, 7 * 24 * 60),
)
_lateness = st.floats(-30 * DAY, 365 * DAY)


@settings(max_examples=300, deadline=None)
@given(_policies, _lateness, _lateness)
def test_late_fraction_never_decreases_with_lateness(policy, a, b):
    early, late = sorted((a, b))
    assert policy.fraction(early) <= policy.fraction(late)


@settings(max_examples=300, deadline=None)
@given(_policies, _lateness)
def test_late_fraction_stays_between_zero_and_the_cap(policy, late_s):
    f = policy.fraction(late_s)
    assert 0.0 <= f <= 1.0
    if policy.kind != "zero":
        assert f <= policy.cap


@settings(max_examples=200, deadline=None)
@given(_policies, st.floats(-30 * DAY, 7 * 24 * 3600))
def test_nothing_is_taken_within_the_grace_period(policy, late_s):
    if late_s <= policy.grace_minutes * 60:
        assert policy.fraction(late_s) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 1.0), st.floats(1.0, 30 * DAY))
def test_per_hour_takes_at_least_as_much_as_per_day(penalty, late_s):
    assert LatePolicy("per_hour", penalty).fraction(late_s) >= LatePolicy("per_day", penalty).fraction(late_s)


# -- reading course.yaml -------------------------------------------------------------------

def test_the_repository_course_config_loads():
    cfg = load_config(REPO / "course" / "course.yaml")
    assert cfg.root == REPO
    assert cfg.late_policy.kind in ("none", "zero", "per_hour", "per_day")
    assert cfg.due_date("a1_rnn") is not None and cfg.due_date("a1_rnn").tzinfo is not None
    assert list(cfg.assignments) == ["a1_rnn", "a2_gated", "a3_attention", "a4_seq2seq", "a5_transformer"]
    assert cfg.assignment("a3_attention").reference == REPO / "solutions" / "attention.py"
    assert cfg.submission_time == "first_seen"  # never a time the student can set, by default


def test_settings_are_read_with_paths_relative_to_the_file(tmp_path):
    p = write(tmp_path, """
name: Test course
root: .
gradebook: grades/gb.db
due:
  a1_rnn: 2030-01-02T03:04:05+01:00
  a2_gated: 2030-01-02 12:00
late_policy: {kind: per_hour, penalty: 0.02, cap: 0.3, grace_minutes: 5}
submission_time: nbgrader
""")
    cfg = load_config(p)
    assert cfg.name == "Test course" and cfg.root == tmp_path.resolve()
    assert cfg.gradebook == tmp_path.resolve() / "grades" / "gb.db"
    assert cfg.due["a1_rnn"] == datetime(2030, 1, 2, 2, 4, 5, tzinfo=timezone.utc)
    assert cfg.due["a2_gated"] == datetime(2030, 1, 2, 12, 0, tzinfo=timezone.utc)  # naive means UTC
    assert cfg.late_policy == LatePolicy("per_hour", 0.02, 0.3, 5)
    assert cfg.submission_time == "nbgrader_timestamp" and cfg.source == p.resolve()  # the old name still reads


def test_empty_config_gives_the_defaults(tmp_path):
    cfg = load_config(write(tmp_path, ""))
    assert cfg.late_policy == LatePolicy() and cfg.due == {}
    assert cfg.root == tmp_path.resolve().parent


def test_secret_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "from-env")
    assert load_config(write(tmp_path, "secret: in-file\n")).secret == "from-env"


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text,line,col", [
    ("name: x\ndue: {a1_rnn: 2030-01-01\n", 3, 1),
    ("name: x\nlate_policy:\n  kind: per_day\n penalty: 0.1\n", 4, 2),
    ("name: 'unterminated\nroot: ..\n", 3, 1),
    ("name: x\n\tsecret: tab\n", 2, 1),
], ids=["unclosed-flow-mapping", "bad-indent", "unterminated-quote", "tab-indent"])
def test_malformed_yaml_is_a_config_error_with_file_line_col(tmp_path, text, line, col):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError, match="not valid YAML") as e:
        load_config(p)
    assert f"{p}:{line}:{col}:" in str(e.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"], ids=["list", "string", "number"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("late", ["{kind: per_week}", "{kind: Per_Day}", "[per_day]", "per_day"],
                         ids=["unknown-kind", "wrong-case", "a-list", "a-string"])
def test_bad_late_policy_kind_is_a_config_error(tmp_path, late):
    with pytest.raises(ConfigError, match="late_policy.kind must be one of none, zero, per_hour, per_day"):
        load_config(write(tmp_path, f"late_policy: {late}\n"))


def test_bad_due_date_names_the_item(tmp_path):
    with pytest.raises(ConfigError, match=r"due\.a1_rnn: 'next monday' is not an ISO 8601 date"):
        load_config(write(tmp_path, "due:\n  a1_rnn: next monday\n"))


@pytest.mark.parametrize("text,names", [
    ("late_policy: {kind: per_day, penalti: 0.1}\n", "penalti"),
    ("late_policy: {kind: per_day, penalty: lots}\n", "penalty"),
    ("late_policy: {kind: per_day, penalty: -0.5}\n", "penalty"),
    ("late_policy: {kind: per_day, penalty: 0.1, cap: 2}\n", "cap"),
    ("due: [a1_rnn]\n", "due"),
    ("languages: en\n", "languages"),
], ids=["typo-in-late-policy-key", "penalty-not-a-number", "negative-penalty", "cap-above-one",
        "due-not-a-mapping", "languages-not-a-list"])
def test_malformed_setting_is_a_config_error_naming_it(tmp_path, text, names):
    """A wrong setting must not crash later (TypeError) or silently change scores (a negative penalty)."""
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert names in str(e.value) and str(p) in str(e.value)
