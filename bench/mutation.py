"""Mutation testing of the pure decision modules with mutmut: does a unit test fail when the arithmetic changes?

Line coverage says a line ran; a mutation score says a test would notice if the line were wrong. The policy, the
spill-over split and the metadata parser are pure and cheap to test, so each of their mutants is run against their
own unit tests only (not the whole suite: the machine has two cores, and mutmut runs the tests of a function once
per mutant of it).

    python bench/mutation.py                        # policy, routing, metadata, spillover: about 1-4 minutes
    python bench/mutation.py scaler/routing.py      # one file (its tests are found by name)
    python bench/mutation.py --keep                 # keep the work copy to inspect with `mutmut show NAME`

mutmut writes a ``mutants/`` tree, a stats file and per-file results beside the sources it is pointed at, and its
config lives in setup.cfg. So this script copies the working tree (tracked and new files, as git lists them) into
a fresh temporary directory, writes the config there, runs mutmut in it and reads its results back; nothing is
written inside the repository. It prints the score per file (killed / tested) and every survivor as the line
mutmut changed, so that each can be killed by a sharper test or argued equivalent.

Tests are picked per file by name: ``scaler/X.py`` is tested by ``tests/unit/test_X.py`` and every
``tests/unit/test_X_*.py`` beside it, so new test files join by their name. Hypothesis runs derandomized (its CI
profile): two runs of the same tree give the same score. The exit code is non-zero only when the run itself fails
(no mutants, tests failing before any mutation, mutants left unrun); a score under ``--target`` is printed as
MISSED, never a failure.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILES = ("scaler/policy.py", "scaler/routing.py", "scaler/metadata.py", "scaler/spillover.py")
KILLED = frozenset({"killed", "timeout", "caught by type check"})
"""mutmut statuses that mean a check noticed the mutant (a timeout is a mutant that loops: noticed)."""
NOT_TESTED = frozenset({"skipped", "not checked"})
"""Statuses left out of the score: excluded by a pragma, or never run (which fails the run)."""
_RESULT_LINE = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")


@dataclass(frozen=True)
class Mutant:
    name: str
    """mutmut's name, e.g. ``scaler.policy.x_trend__mutmut_3``."""
    status: str


def tests_for(source: str) -> list[str]:
    """``scaler/policy.py`` -> ``tests/unit/test_policy.py`` and ``tests/unit/test_policy_*.py``, as found."""
    stem = Path(source).stem
    unit = ROOT / "tests" / "unit"
    found = sorted({*unit.glob(f"test_{stem}.py"), *unit.glob(f"test_{stem}_*.py")})
    return [str(p.relative_to(ROOT)) for p in found]


def module_of(source: str) -> str:
    return source.removesuffix(".py").replace("/", ".")


def file_of(mutant: str, sources: Sequence[str]) -> str:
    """The source a mutant belongs to: the longest module name its name starts with."""
    owners = [s for s in sources if mutant.startswith(module_of(s) + ".")]
    if not owners:
        raise ValueError(f"mutant {mutant} belongs to none of {', '.join(sources)}")
    return max(owners, key=len)


@contextmanager
def workdir(path: Path | None, *, keep: bool) -> Iterator[Path]:
    """A fresh temporary directory, removed afterwards unless kept; or the given one (absent or empty, outside the
    repository), always kept."""
    if path is not None:
        path = path.resolve()
        if path == ROOT or ROOT in path.parents:
            raise SystemExit(f"--workdir {path} is inside the repository; mutmut's files must stay outside it")
        if path.exists() and any(path.iterdir()):
            raise SystemExit(f"--workdir {path} is not empty; give an absent or empty directory")
        path.mkdir(parents=True, exist_ok=True)
    made = path or Path(tempfile.mkdtemp(prefix="burst-mutation-"))
    try:
        yield made
    finally:
        if keep or path is not None:
            print(f"(mutmut's files kept in {made}: `cd {made} && python -m mutmut show NAME`)")
        else:
            shutil.rmtree(made, ignore_errors=True)


def repo_files() -> list[str]:
    """The working tree as git sees it: tracked and new files, without ignored ones (.venv, caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def stage(work: Path) -> list[str]:
    """Copy the working tree (tests may read any file of it, e.g. the README's generated table); return its
    top-level entries, which mutmut must copy beside the mutated package."""
    for name in repo_files():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, work / name)
    return sorted(p.name for p in work.iterdir() if p.name != "scaler")


def write_config(work: Path, sources: Sequence[str], tests: Sequence[str], also_copy: Sequence[str]) -> None:
    """setup.cfg's [mutmut] section (mutmut reads it when pyproject.toml has no [tool.mutmut]); pytest keeps
    reading the project's own options from the copied pyproject.toml."""
    lines = [
        "[mutmut]",
        "source_paths = scaler",
        "also_copy =",
        *(f"    {name}" for name in also_copy),
        "only_mutate =",
        *(f"    {s}" for s in sources),
        "pytest_add_cli_args_test_selection =",
        *(f"    {t}" for t in tests),
        # Hypothesis' CI profile: derandomized (the same examples for every mutant and every run), no example
        # database (a failure found for one mutant is not replayed against the next), no per-example deadline
        # (a mutant slowed by a busy machine is not a kill)
        "pytest_add_cli_args =",
        "    --hypothesis-profile=ci",
        "",
    ]
    if "mutmut" in tomllib.loads((work / "pyproject.toml").read_text()).get("tool", {}):
        raise SystemExit("pyproject.toml has a [tool.mutmut] table, which mutmut would read instead of setup.cfg")
    (work / "setup.cfg").write_text("\n".join(lines))


def mutmut(work: Path, *args: str, capture: bool = False) -> str:
    """Run a mutmut command in the work copy; its output is returned when captured, else shown."""
    result = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if result.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed with exit code {result.returncode}\n{result.stdout or ''}")
    return result.stdout or ""


def run_mutmut(work: Path, max_children: int) -> None:
    """``mutmut run``; into a file or pipe, without its spinner (a progress line redrawn several times a second,
    megabytes over a run): only the last state of each run of progress lines is kept."""
    if sys.stdout.isatty():
        mutmut(work, "run", "--max-children", str(max_children))
        return
    try:
        output = mutmut(work, "run", "--max-children", str(max_children), capture=True)
    except SystemExit as failed:
        raise SystemExit(_without_spinner(str(failed))) from None
    print(_without_spinner(output))


def _is_progress(line: str) -> bool:
    return bool(line) and "\u2800" <= line[0] <= "\u28ff"  # mutmut's spinner frames are braille characters


def _without_spinner(output: str) -> str:
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in output.split("\n")]
    kept = [
        line
        for line, after in zip(lines, [*lines[1:], ""], strict=True)
        if not (_is_progress(line) and _is_progress(after)) and not line.lstrip().startswith("also copying")
    ]
    return "\n".join(kept)


def results(work: Path) -> list[Mutant]:
    found = []
    for line in mutmut(work, "results", "--all", "true", capture=True).splitlines():
        match = _RESULT_LINE.match(line)
        if match:
            found.append(Mutant(match["name"], match["status"]))
    return found


_SHOW = """
import sys
from mutmut.__main__ import cli
for name in sys.argv[1:]:
    print("@@@@ " + name, flush=True)
    cli.main(["show", name], standalone_mode=False)
"""
"""``mutmut show`` for every survivor in one process (a process per mutant costs seconds each)."""


@dataclass(frozen=True)
class Change:
    line: int | None
    """Line of the first changed line in the original source (None when it cannot be placed)."""
    removed: tuple[str, ...]
    added: tuple[str, ...]


def changes(work: Path, names: Sequence[str]) -> dict[str, Change]:
    """What each mutant changed, from ``mutmut show`` (a unified diff of the function, numbered from its def)."""
    if not names:
        return {}
    result = subprocess.run(
        [sys.executable, "-c", _SHOW, *names], cwd=work, check=True, text=True, stdout=subprocess.PIPE
    )
    found = {}
    for block in result.stdout.split("@@@@ ")[1:]:
        name, _, diff = block.partition("\n")
        found[name] = _change(diff.splitlines())
    return found


def _change(diff: Sequence[str]) -> Change:
    removed: list[str] = []
    added: list[str] = []
    offset: int | None = None
    line = 0
    for text in diff:
        hunk = re.match(r"^@@ -(\d+)", text)
        if hunk:
            line = int(hunk[1])
        elif text.startswith(("---", "+++", "#")):
            continue
        elif text.startswith("-"):
            offset = line if offset is None else offset
            removed.append(text[1:].strip())
            line += 1
        elif text.startswith("+"):
            offset = line if offset is None else offset
            added.append(text[1:].strip())
        else:
            line += 1
    return Change(line=offset, removed=tuple(removed), added=tuple(added))


def def_lines(source: Path) -> dict[str, int]:
    """First line of every function and method, by mutmut's name for it (``name`` or ``xǁClassǁname``)."""
    tree = ast.parse(source.read_text())
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    first = min([item.lineno, *(d.lineno for d in item.decorator_list)])
                    found[f"xǁ{node.name}ǁ{item.name}"] = first
    return found


def function_of(mutant: str) -> str:
    """``scaler.policy.x_trend__mutmut_3`` -> ``trend``; a method keeps mutmut's ``xǁClassǁmethod``."""
    last = mutant.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    return last if "ǁ" in last else last.removeprefix("x_")


def report(work: Path, sources: Sequence[str], mutants: Sequence[Mutant], target: float) -> bool:
    """Print the score per file and every survivor; False when some mutant was never run."""
    by_file: dict[str, Counter[str]] = {s: Counter() for s in sources}
    for m in mutants:
        by_file[file_of(m.name, sources)][m.status] += 1
    print()
    print("| file | mutants | killed | survived | score | target |")
    print("|---|---|---|---|---|---|")
    for source, counts in by_file.items():
        tested = sum(n for status, n in counts.items() if status not in NOT_TESTED)
        killed = sum(n for status, n in counts.items() if status in KILLED)
        score = 100.0 * killed / tested if tested else float("nan")
        met = tested > 0 and score >= target
        print(f"| {source} | {tested} | {killed} | {tested - killed} | {score:.1f} % | {'met' if met else 'MISSED'} |")
    skipped = [m for m in mutants if m.status == "skipped"]
    if skipped:
        print(f"({len(skipped)} mutants skipped by `# pragma: no mutate`, not counted)")
    survivors = [m for m in mutants if m.status not in KILLED | NOT_TESTED]
    print()
    print(f"Survivors ({len(survivors)}):" if survivors else "Survivors: none")
    diffs = changes(work, [m.name for m in survivors])
    starts = {source: def_lines(work / source) for source in sources}
    rows = []
    for m in survivors:
        source = file_of(m.name, sources)
        change = diffs.get(m.name, Change(None, (), ()))
        first = starts[source].get(function_of(m.name))
        line = first + change.line - 1 if first is not None and change.line is not None else 0
        rows.append((sources.index(source), line, m.name, source, m.status, change))
    for _, line, name, source, status, change in sorted(rows):
        print(f"  {source}:{line or '?'}  {name}  [{status}]")
        for text in change.removed:
            print(f"      - {text}")
        for text in change.added:
            print(f"      + {text}")
    unrun = [m.name for m in mutants if m.status == "not checked"]
    if unrun:
        print(f"{len(unrun)} mutants were never run (interrupted?): {', '.join(unrun[:10])}")
    return not unrun


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=list(DEFAULT_FILES), help="sources to mutate (repo-relative)")
    parser.add_argument("--target", type=float, default=90.0, help="score per file printed as met/MISSED (%%)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="parallel mutant runs")
    parser.add_argument("--keep", action="store_true", help="keep the work copy (its path is printed)")
    parser.add_argument("--workdir", type=Path, help="an absent or empty directory to use (and keep) instead")
    args = parser.parse_args()

    sources = [str(Path(f)) for f in args.files]
    missing = [s for s in sources if not (ROOT / s).is_file() or not s.startswith("scaler/")]
    if missing:
        parser.error(f"not a file under scaler/: {', '.join(missing)}")
    tests = sorted({t for s in sources for t in tests_for(s)})
    untested = [s for s in sources if not tests_for(s)]
    if untested:
        parser.error(f"no tests/unit/test_<name>.py for {', '.join(untested)}")
    print(f"mutating: {', '.join(sources)}")
    print(f"tests:    {', '.join(tests)}")

    with workdir(args.workdir, keep=args.keep) as work:
        write_config(work, sources, tests, also_copy=stage(work))
        started = time.monotonic()
        run_mutmut(work, args.max_children)
        elapsed = time.monotonic() - started
        mutants = results(work)
        if not mutants:
            print("mutmut reported no mutants: nothing was tested")
            return 1
        complete = report(work, sources, mutants, args.target)
        print()
        print(f"mutmut run: {elapsed:.0f} s wall with {args.max_children} workers, {len(mutants)} mutants")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
