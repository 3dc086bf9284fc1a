"""Unit tests never sleep for real: time is a fake clock there, so a real sleep is a slow, flaky test in waiting.

Scans every module under tests/unit for calls to ``time.sleep`` or ``asyncio.sleep`` (however imported or aliased)
whose delay is not the literal 0. ``asyncio.sleep(0)`` only yields to the event loop and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

UNIT = Path(__file__).resolve().parent
SLEEPS = frozenset({("time", "sleep"), ("asyncio", "sleep")})


def _sleep_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names bound to the time/asyncio modules, and local names bound to their ``sleep`` functions."""
    modules: dict[str, str] = {}
    functions: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("time", "asyncio"):
                    modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
            for alias in node.names:
                if alias.name == "sleep":
                    functions.add(alias.asname or alias.name)
    return modules, functions


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and not isinstance(node.value, bool) and node.value == 0


def real_sleeps(source: str, filename: str = "<test>") -> list[str]:
    """``file:line`` of every sleep call whose delay is not the literal 0."""
    tree = ast.parse(source, filename)
    modules, functions = _sleep_names(tree)
    lines: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        is_sleep = (isinstance(func, ast.Name) and func.id in functions) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and (modules.get(func.value.id), func.attr) in SLEEPS
        )
        if not is_sleep:
            continue
        delays = [*node.args[:1], *(k.value for k in node.keywords if k.arg in ("secs", "delay"))]
        if not delays or not all(_is_zero(delay) for delay in delays):
            lines.append(node.lineno)
    return [f"{filename}:{line}" for line in sorted(lines)]


def test_the_scan_finds_real_sleeps_however_spelt() -> None:
    source = """
import asyncio
import time
import asyncio as aio
from time import sleep
from asyncio import sleep as nap

async def f(delay):
    await asyncio.sleep(0)
    await asyncio.sleep(0.0)
    await asyncio.sleep(0.01)
    time.sleep(1)
    await aio.sleep(delay)
    sleep(2)
    await nap(delay=0.5)
    await asyncio.sleep(False)
"""
    assert real_sleeps(source) == ["<test>:11", "<test>:12", "<test>:13", "<test>:14", "<test>:15", "<test>:16"]


def test_unit_tests_do_not_sleep_for_real() -> None:
    files = sorted(UNIT.rglob("*.py"))
    assert Path(__file__).resolve() in files
    found = [hit for path in files for hit in real_sleeps(path.read_text(), str(path.relative_to(UNIT.parent)))]
    assert found == [], f"real sleeps in unit tests (drive a fake clock instead): {found}"
