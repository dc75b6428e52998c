"""The README's commands run as written, and the help texts' examples name real options.

* the ```sh block of "The first ten minutes" runs line by line in a scratch folder laid out like
  the repository (``.venv`` and ``build`` linked), then the ```lammps block (saved under the name
  its first line gives) through every ``lmp -in`` / ``mpirun ... lmp -in`` line the README shows;
* every ``glassmodes ...`` command in the README, the main help and each subcommand's help
  examples names a subcommand that exists and only options that subcommand has;
* the demo's report: every stage's reproducing command (``stages.json``) runs as printed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from glassmodes.cli.main import SUBCOMMANDS, build_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def fenced_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def inline_spans(text: str) -> list[str]:
    out = []
    for block in re.split(r"^```.*?^```", text, flags=re.S | re.M):
        out += re.findall(r"`([^`\n]+)`", block)
    return out


def glassmodes_commands() -> list[tuple[str, str]]:
    """(where, command) for every glassmodes command line shown to users."""
    found = []
    for block in fenced_blocks(README, "sh"):
        found += [("README block", l.strip()) for l in block.splitlines() if l.strip().startswith("glassmodes ")]
    found += [("README inline", s) for s in inline_spans(README) if s.startswith("glassmodes ")]
    for doc in sorted((REPO / "docs").glob("*.md")):
        text = doc.read_text()
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M):
            found += [(doc.name, l.split(" #", 1)[0].strip()) for l in block.splitlines()
                      if l.strip().startswith("glassmodes ")]
        found += [(doc.name, s) for s in inline_spans(text) if s.startswith("glassmodes ")]
    parser = build_parser()
    texts = {"glassmodes --help": parser.format_help()}
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        texts[f"glassmodes {name} --help"] = p.description or ""
    for where, text in texts.items():
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("glassmodes "):
                found.append((where, line))
    return found


def _options(subparser) -> set[str]:
    return {s for a in subparser._actions for s in a.option_strings}


def test_every_shown_command_names_real_options():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = glassmodes_commands()
    assert len(commands) > 20, "the README, docs and help texts should show glassmodes commands"
    problems = []
    for where, line in commands:
        for cmd in re.split(r"&&|;|\|", line):
            try:
                words = shlex.split(cmd.replace("...", "").replace("\\", " "))
            except ValueError as exc:
                problems.append(f"{where}: `{cmd.strip()}`: {exc}")
                continue
            if not words or words[0] != "glassmodes":
                continue
            if len(words) == 1 or words[1].startswith("-") or words[1] == "COMMAND":  # --version, COMMAND --help
                continue
            name = words[1].rstrip(",")
            if name not in SUBCOMMANDS:
                problems.append(f"{where}: `{cmd.strip()}` names no subcommand {name!r}")
                continue
            known = _options(sub.choices[name])
            for w in words[2:]:
                opt = w.split("=", 1)[0]
                if (opt.startswith("--") or re.fullmatch(r"-[a-zA-Z]", opt)) and opt not in known:
                    problems.append(f"{where}: `{cmd.strip()}`: {opt} is not an option of glassmodes {name}")
    assert not problems, "\n".join(problems)


def test_main_help_commands_are_the_readme_tour():
    tour = fenced_blocks(README, "sh")[0]
    for line in build_parser().format_help().splitlines():
        line = line.strip()
        if line.startswith("glassmodes ") and not line.startswith("glassmodes COMMAND"):
            assert line in tour, f"main help shows `{line}`, which the README tour (run below) does not"


def _scratch(tmp_path: Path) -> Path:
    """A folder laid out like the repository: .venv and build linked."""
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    (tmp_path / "build").symlink_to(REPO / "build")
    return tmp_path


def _bash(script: str, cwd: Path, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "GLASSMODES_UNDER_MPIRUN")}
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, f"{script}\nexit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.mpi
def test_readme_tour_and_lammps_snippet_run_as_written(tmp_path):
    cwd = _scratch(tmp_path)
    tour = fenced_blocks(README, "sh")[0]
    lines = [l for l in tour.splitlines() if l.strip()]
    assert lines[0] == "source .venv/bin/activate"
    _bash("\n".join(lines), cwd)
    for name in ("tour/H.json", "tour/F3.json", "tour/modes.h5", "tour/analysis/summary.json",
                 "tour/lifetimes.csv", "tour/lifetimes.png", "tour/mode0.png", "tour/mode0.xyz"):
        assert (cwd / name).is_file(), f"the tour did not write {name}"

    (snippet,) = fenced_blocks(README, "lammps")
    target = snippet.splitlines()[0].lstrip("# ").split(":")[0]
    (cwd / target).write_text(snippet)
    runs = [s for s in inline_spans(README) if re.match(r"(mpirun -np \d+ )?lmp -in ", s)]
    assert runs, "the README shows how to run the LAMMPS snippet"
    for run in runs:
        for old in cwd.glob("tour/instantaneous.*.hess*"):
            old.unlink()
        _bash("source .venv/bin/activate\n" + run, cwd)
        written = sorted(p.name for p in cwd.glob("tour/instantaneous.*.hess"))
        assert written == ["instantaneous.0.hess", "instantaneous.1000.hess", "instantaneous.500.hess"], (run, written)
        meta = json.loads((cwd / "tour/inherent.hess.json").read_text())
        assert meta["natoms"] == 500


@pytest.mark.mpi
def test_demo_report_commands_run_as_printed(tmp_path):
    cwd = _scratch(tmp_path)
    _bash("source .venv/bin/activate\nglassmodes demo --out d --n 200", cwd)
    report = (cwd / "d/report.html").read_text()
    stages = json.loads((cwd / "d/stages.json").read_text())
    assert len(stages) == 7
    for name, rec in stages.items():
        assert rec["command"].replace('"', "&quot;").replace("'", "&#x27;") in report, name
        _bash("source .venv/bin/activate\n" + rec["command"], cwd)
    # a rerun resumes: every stage is kept
    proc = _bash("source .venv/bin/activate\nglassmodes demo --out d --n 200", cwd)
    assert proc.stdout.count("done before, kept") == 7, proc.stdout


def test_doctor_exits_0_without_the_optional_parts(monkeypatch, capsys):
    """A correct install without PETSc/SLEPc and OVITO: reported as optional, exit status 0."""
    from glassmodes.cli import doctor
    from glassmodes.cli.main import main

    monkeypatch.setattr(doctor, "_missing", lambda modules: list(modules))
    assert main(["doctor", "--skip", "plugin"]) == 0
    out = capsys.readouterr().out
    assert "[optional, not installed] petsc: petsc4py, slepc4py missing" in out
    assert "[optional, not installed] ovito" in out
    assert "all checks passed" in out


def test_version_and_data_file_without_force_field(tmp_path, capsys):
    from glassmodes import __version__
    from glassmodes.cli.main import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"glassmodes {__version__}"
    data = tmp_path / "glass.data"
    data.write_text("LAMMPS data file\n\n2 atoms\n1 atom types\n")
    assert main(["hessian", str(data), "-o", str(tmp_path / "H")]) == 2
    err = capsys.readouterr().err
    assert "is a LAMMPS data file and no force field was given" in err and "--forcefield" in err
    assert not list(tmp_path.glob("H*"))
