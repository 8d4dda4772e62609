"""Size and time of installing the student bundle, exactly as its README tells students.

    .venv/bin/python bench/bench_bundle_install.py [--out DIR] [--keep]

Builds the bundle of this repository's course (`build_bundle`, the secret from
$SEQGRADE_SECRET or a throwaway one: no quiz key is needed to measure), then, in
a copy of it far from the repository and with nothing of the repository on
PATH or PYTHONPATH, runs the README's install commands one by one (the block
under "## Install") and reports the wall time of each, the size of the fresh
`.venv` (`du`: disk usage and apparent size), the packages installed, torch's
version, and the time of a first `seqgrade --version`.

pip uses the machine's own configuration, so torch comes from wherever pip
finds the pinned version (on the project's machines a local CPU wheel; on a
student's machine PyTorch's CPU index): the time depends on that, the size
does not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.config import load_config  # noqa: E402
from grader.release.bundle import build_bundle  # noqa: E402
from grader.release.readme import install_commands  # noqa: E402


def student_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "SEQGRADE_SECRET")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not Path(p).resolve().is_relative_to(REPO))
    env.update(HOME=str(home), PIP_RETRIES="0")  # PyTorch's index may be unreachable here: fail over at once
    return env


def du(path: Path, apparent: bool) -> int:
    args = ["du", "-s", "--block-size=1"] + (["--apparent-size"] if apparent else []) + [str(path)]
    return int(subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="Work folder (default: a temporary one).")
    ap.add_argument("--keep", action="store_true", help="Keep the bundle and its venv.")
    args = ap.parse_args()

    work = args.out or Path(tempfile.mkdtemp(prefix="seqgrade-bundle-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        cfg = load_config(REPO / "course" / "course.yaml")
        cfg.secret = os.environ.get("SEQGRADE_SECRET") or "bench-throwaway-secret"
        t0 = time.perf_counter()
        bundle = build_bundle(cfg, work / "dist")
        built = time.perf_counter() - t0
        home = work / "student"
        home.mkdir(exist_ok=True)
        folder = home / "seqgrade-student"
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(bundle.folder, folder)
        env = student_env(home)
        timings = []
        for command in install_commands((folder / "README.md").read_text(encoding="utf-8")):
            t0 = time.perf_counter()
            r = subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True)
            timings.append((command, time.perf_counter() - t0))
            if r.returncode != 0:
                sys.exit(f"{command} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        venv = folder / ".venv"
        py = venv / "bin" / "python"
        listed = json.loads(subprocess.run([str(py), "-m", "pip", "list", "--format", "json"], cwd=folder, env=env,
                                           capture_output=True, text=True, check=True).stdout)
        versions = {p["name"].lower(): p["version"] for p in listed}
        t0 = time.perf_counter()
        subprocess.run([str(venv / "bin" / "seqgrade"), "--version"], cwd=folder, env=env, check=True,
                       capture_output=True)
        first_run = time.perf_counter() - t0
        wheel_kb = bundle.wheel.stat().st_size / 1024
        zip_mb = bundle.zip.stat().st_size / 2**20

        print(f"bundle: built in {built:.1f} s; {zip_mb:.1f} MiB zipped; seqgrade wheel {wheel_kb:.0f} KiB")
        for command, seconds in timings:
            print(f"  {seconds:7.1f} s  {command}")
        print(f"install: {sum(s for _, s in timings):.1f} s in all")
        print(f"venv: {du(venv, False) / 2**30:.2f} GiB on disk ({du(venv, True) / 2**30:.2f} GiB apparent), "
              f"{len(versions)} packages; torch {versions.get('torch')}; "
              f"nvidia-* packages: {sum(n.startswith('nvidia') for n in versions)}")
        torch_dir = next(iter((venv / "lib").glob("python3*/site-packages/torch")), None)
        if torch_dir is not None:
            print(f"  of which torch: {du(torch_dir, False) / 2**30:.2f} GiB")
        print(f"first `seqgrade --version`: {first_run:.1f} s")
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(work, ignore_errors=True)
        elif args.keep:
            print(f"kept: {work}")


if __name__ == "__main__":
    main()
