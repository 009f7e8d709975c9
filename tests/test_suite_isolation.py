"""Parallel test processes never share a Redis database (conftest.redis_for_this_process)."""

from __future__ import annotations

from tests.conftest import redis_for_this_process


def test_one_process_keeps_the_database_it_was_given(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert redis_for_this_process("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_each_worker_takes_the_database_after_the_given_one_by_its_number(monkeypatch):
    seen = set()
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        seen.add(redis_for_this_process("redis://127.0.0.1:6379/0"))
    assert seen == {f"redis://127.0.0.1:6379/{n}" for n in (1, 2, 3)}


def test_worker_databases_wrap_around_within_redis_default_sixteen(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert redis_for_this_process("redis://127.0.0.1:6379/14") == "redis://127.0.0.1:6379/0"
    assert redis_for_this_process("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379/2"


def test_one_browser_fixture_serves_every_folder():
    """A session fixture imported into another module is a second fixture, and a second
    Playwright started beside the first fails; tests/browser.py is the only definition."""
    import ast
    from pathlib import Path

    names = {"browser", "context", "page", "artifacts"}
    root = Path(__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "browser.py" and path.parent == root:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests"):
                offenders += [f"{path}: imports {a.name}" for a in node.names if a.name in names]
            if isinstance(node, ast.FunctionDef) and node.name in names and any(
                "scope=" in ast.unparse(d) for d in node.decorator_list
            ):
                offenders.append(f"{path}: defines {node.name}")
    assert offenders == []
