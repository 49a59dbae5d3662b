"""The README's two set-up commands stay what CI and newcomers run."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fenced_commands(text):
    return [line.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
            for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    commands = _fenced_commands(setup)
    assert len(commands) == 2, commands
    main_job, test_cmd = commands
    assert main_job.startswith("pip install -e .") and "lsgdsim " in main_job
    assert "pytest" in test_cmd and ".[test,notebooks,mpi]" in test_cmd    # CI executes the notebooks, MPI tests too
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_cmd in ci.splitlines()


def test_readme_gallery_shows_at_least_six_committed_figures_each_with_its_sentence():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    gallery = readme.split("## Gallery", 1)[1].split("\n## ", 1)[0]
    images = re.findall(r"!\[[^\]]*\]\((figures/[\w.-]+\.png)\)", gallery)
    assert len(images) >= 6 and len(set(images)) == len(images), images
    for image in images:
        head = (ROOT / image).read_bytes()[:8]
        assert head == b"\x89PNG\r\n\x1a\n", f"{image} is not a committed PNG"
    sentences = [line for line in gallery.splitlines() if line.startswith("**")]
    assert len(sentences) == len(images)                 # one bold-led sentence per figure
    assert "(figures/" in gallery                         # the link to the whole folder


def _table_rows(text: str, header: str) -> dict[str, list[str]]:
    """name → cells of the Markdown table whose header row starts with ``header``."""
    table = text.split(header, 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows[re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", cells[0]).strip("`")] = cells
    return rows


def test_the_readme_check_table_says_what_the_full_runs_records_say():
    """Every verdict in the README's check table is the verdict of the committed full run (figures/README.md,
    written by `lsgdsim reproduce` from the records, beside what each record's summary says)."""
    import theory_checks
    readme = _table_rows((ROOT / "README.md").read_text(encoding="utf-8"), "| check | claim (paper or reviewer) |")
    index = _table_rows((ROOT / "figures" / "README.md").read_text(encoding="utf-8"), "| figure | claim or question")
    assert list(readme) == list(theory_checks.CHECKS)
    for name, cells in readme.items():
        said = re.sub(r"\s*\(was [^)]*\)", "", cells[2]).replace("*", "").strip()
        assert said == index[name][2], f"{name}: README says {said!r}, the full run's record {index[name][2]!r}"
        assert index[name][3] not in ("", "—"), f"{name}: the index lacks the record's summary"
