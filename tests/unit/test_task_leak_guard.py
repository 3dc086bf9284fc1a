"""The task-leak guard of ``tests/conftest.py``: an async test that leaves a task pending fails, naming the task.

The guard is proven on inner test runs (pytester) that use the very fixtures of ``tests/conftest.py``, so a guard
that stopped failing would fail here.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

_CONFTEST = """
from tests.conftest import _no_leaked_tasks, _task_leak_guard  # noqa: F401  (the fixtures under test)
"""

_INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(_CONFTEST)
    pytester.makeini(_INI)
    return pytester


def test_a_leaked_task_fails_the_test_and_is_named_with_its_coroutine(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_inner="""
        import asyncio

        async def linger_forever():
            await asyncio.Event().wait()

        async def test_leaks():
            asyncio.get_running_loop().create_task(linger_forever(), name="the-leak")
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*the test leaked 1 asyncio task(s), still pending after teardown: the-leak coro=linger_forever*"]
    )


def test_a_task_that_finishes_within_one_loop_turn_or_is_awaited_passes(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_inner="""
        import asyncio

        async def quick():
            return 1

        async def test_awaits_its_task():
            task = asyncio.get_running_loop().create_task(asyncio.sleep(0.01))
            await task

        async def test_leaves_a_task_that_is_about_to_finish():
            asyncio.get_running_loop().create_task(quick())

        async def test_cancels_and_awaits_its_task():
            task = asyncio.get_running_loop().create_task(asyncio.Event().wait())
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        def test_sync_tests_are_not_watched():
            assert not asyncio.iscoroutinefunction(test_sync_tests_are_not_watched)
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=4)


def test_a_task_stopped_by_a_fixture_teardown_is_not_a_leak(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_inner="""
        import asyncio
        import pytest

        @pytest.fixture
        async def background():
            task = asyncio.get_running_loop().create_task(asyncio.Event().wait())
            yield task
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        async def test_uses_a_background_task(background):
            assert not background.done()
        """
    )
    result = inner.runpytest()
    result.assert_outcomes(passed=1)
