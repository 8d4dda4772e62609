"""What a grading worker needs to know to grade one assignment: typed, and plain JSON on the wire."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..sandbox.launcher import Limits


@dataclass(frozen=True)
class GradeSettings:
    """One grading session's settings, the same for every submission it grades."""

    assignment: str  # the assignment id
    seed: int  # draws the checks' sizes and values
    course: str | None = None  # the course config file (None: course/course.yaml of the worker's folder)
    sandbox: str = "bwrap"  # bwrap | none | auto (resolved where the code runs; auto fails closed)
    hidden: bool = True  # run the hidden checks too (instructors) or only the public ones (students)
    limits: Limits = field(default_factory=Limits)
    untrusted: bool = True  # whose code: a class's (fail closed without bubblewrap) or one's own

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["limits"] = self.limits.as_dict()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "GradeSettings":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["limits"] = Limits(**d.get("limits", {}))
        return cls(**known)

    def key(self) -> str:
        """Identifies the settings (a grading process is reused only for equal settings)."""
        import json

        return json.dumps(self.to_json(), sort_keys=True)
