"""One hub instance of scripts/hub/localhub.py: where it lives and what it made (instance.json)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOP = Path(os.environ.get("SEQGRADE_HUB_TOP", "/srv/seqgrade-hub"))
COURSE_ID = "seqgrade"
ASSIGNMENT = "a1_rnn"
QUIZ = "q1_rnn_basics"
MARK = "seqgrade-hub"  # the GECOS field of every user an instance creates: "seqgrade-hub <instance>"
COURSE_PARTS = ("course", "solutions", "assignments")  # the instructor's clone of the course repository


class HubError(Exception):
    """A start or stop that cannot go on; the message says why and what to do."""


# --------------------------------------------------------------------------- where things live
ENV_INPUTS = ("pyproject.toml", "constraints.txt", "scripts/setup-hub.sh")  # what the environment is built from


def env_root(repo: Path = REPO) -> Path:
    """The hub's environment (venv, node) for this checkout's dependencies: outside the checkout, readable by
    the hub's users, and shared by checkouts that pin the same (scripts/setup-hub.sh hashes the same files)."""
    digest = hashlib.sha1(b"".join((repo / f).read_bytes() for f in ENV_INPUTS)).hexdigest()[:16]
    return TOP / "env" / digest


@dataclass
class Instance:
    """One hub: its ports, users and folders, and what `start` made (saved in instance.json)."""

    name: str
    dir: str
    port: int
    hub_port: int
    proxy_api_port: int
    instructor: str
    students: list[str]
    password: str
    venv: str
    repo: str
    assignment: str = ASSIGNMENT
    quiz: str = QUIZ
    checks: list[str] = field(default_factory=list)  # `seqgrade nbgrader init --checks` patterns
    due: str = ""  # the due date of the assignment and the quiz on this hub (ISO 8601, UTC)
    owner_pid: int = 0  # a process whose end makes this instance stale (the browser test's pytest)
    created_users: list[str] = field(default_factory=list)
    hub_pid: int = 0
    hub_started: float = 0.0  # the hub process's start time (seconds since boot), against PID reuse
    state: str = "starting"  # starting | running
    timings: dict[str, float] = field(default_factory=dict)  # seconds each step of `start` took

    # -- paths
    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def exchange(self) -> Path:
        return self.path / "exchange"

    @property
    def hub_dir(self) -> Path:
        return self.path / "hub"

    @property
    def log(self) -> Path:
        return self.hub_dir / "jupyterhub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def users(self) -> list[str]:
        return [self.instructor, *self.students]

    def home(self, user: str) -> Path:
        return self.path / "home" / user

    @property
    def course_dir(self) -> Path:
        return self.home(self.instructor) / "course"

    def role_config(self, role: str) -> Path:
        return self.path / "jupyter" / role

    def save(self) -> None:
        tmp = self.path / "instance.json.tmp"
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o600)  # the password
        tmp.replace(self.path / "instance.json")

    @classmethod
    def load(cls, name: str) -> Instance | None:
        path = TOP / name / "instance.json"
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise HubError(f"{path} is damaged ({exc}); remove {path.parent} and the users it names by hand") from None
