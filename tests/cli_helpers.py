"""What the CLI tests share (imported as a plain module: tests/ is on sys.path, see conftest.py)."""
from __future__ import annotations


def one_line_error(capsys) -> str:
    """The captured stderr, asserted to be exactly one ``lsgdsim: error: ...`` line; returned."""
    err = capsys.readouterr().err
    assert err.startswith("lsgdsim: error: ") and err.count("\n") == 1, err
    return err
