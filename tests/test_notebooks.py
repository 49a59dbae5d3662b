"""The notebooks: committed without outputs, each runs top to bottom in a fresh kernel with SMALL settings
injected, a failing cell fails with its error, and the exported HTML holds the animation.

The kernel tests need the ``notebooks`` extra (nbclient, ipykernel, nbconvert) and skip without it; the
README's test command installs it, so CI runs them. Each kernel start costs a few seconds.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsgdsim import cli
from lsgdsim.notebooks_run import NOTEBOOKS, NotebookError, execute, find, inject, notebook_dir, run_all

ROOT = Path(__file__).resolve().parents[1]


def _kernel():
    for module in ("nbclient", "nbformat", "nbconvert", "ipykernel"):
        pytest.importorskip(module)


def _read(name):
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))


def _write(path, sources, tagged=0):
    import nbformat
    cells = [nbformat.v4.new_code_cell(s) for s in sources]
    cells[tagged].metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                        "display_name": "Python 3"}})
    nbformat.write(nb, path)
    return path


# -- the committed files -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_have_no_outputs_and_a_small_flag(name):
    nb = _read(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, "".join(cell["source"])[:80]
    assert all(c.get("id") for c in nb["cells"]), "every cell has an id (nbformat warns otherwise)"
    assert "widgets" not in nb["metadata"]
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    assert "SMALL = False" in "".join(tagged[0]["source"])


def test_find_checks_names_and_folder(tmp_path):
    assert [p.stem for p in find()] == list(NOTEBOOKS)
    assert notebook_dir() == ROOT / "notebooks"
    with pytest.raises(ValueError, match="only must be one of"):
        find(["nope"])
    with pytest.raises(ValueError, match="not found in"):
        find(["theory"], tmp_path)


def test_inject_puts_the_parameters_right_after_the_tagged_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(_write(tmp_path / "a.ipynb", ["A = 1", "SMALL = False", "print(SMALL)"], tagged=1),
                       as_version=4)
    out = inject(nb, {"SMALL": True, "NAMES": ["x"]})
    assert [c.source for c in nb.cells] == ["A = 1", "SMALL = False", "print(SMALL)"]       # the input is kept
    assert out.cells[2].metadata["tags"] == ["injected-parameters"]
    assert "SMALL = True\nNAMES = ['x']\n" in out.cells[2].source
    assert out.cells[3].source == "print(SMALL)"
    nbformat.validate(out)
    untagged = nbformat.read(_write(tmp_path / "b.ipynb", ["SMALL = False"]), as_version=4)
    untagged.cells[0].metadata["tags"] = []
    with pytest.raises(ValueError, match="parameters"):
        inject(untagged, {"SMALL": True})


def test_cli_refuses_bad_output_and_names_before_any_work(tmp_path, capsys):
    pytest.importorskip("nbclient")
    pytest.importorskip("nbconvert")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["notebooks", "--out", str(blocker)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lsgdsim: error: --out") and "not a folder" in err and "\n" not in err
    assert cli.main(["notebooks", "--out", str(tmp_path / "o"), "--only", "nope"]) == 2
    assert "only must be one of" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# -- executed in fresh kernels -----------------------------------------------------------------------------
def test_a_failing_cell_fails_with_that_cells_error(tmp_path):
    _kernel()
    path = _write(tmp_path / "broken.ipynb",
                  ["SMALL = False", "x = 41", "if SMALL:\n    raise RuntimeError(f'broken on purpose {x + 1}')"])
    with pytest.raises(NotebookError, match=r"broken\.ipynb: cell 3 raised RuntimeError: broken on purpose 42") as e:
        execute(path, {"SMALL": True}, timeout=120)
    assert "broken on purpose 42" in e.value.traceback
    executed = execute(path, timeout=120)                        # without the injected flag nothing raises
    assert all(o.get("output_type") != "error" for c in executed.cells for o in c.get("outputs", []))


def test_landscapes_exports_html_with_the_animation(tmp_path):
    _kernel()
    times = run_all(tmp_path / "out", small=True, names=["landscapes"], timeout=300)
    assert list(times) == ["landscapes"]
    html = (tmp_path / "out" / "landscapes.html").read_text(encoding="utf-8")
    assert 'class="animation"' in html and "new Animation(" in html    # FuncAnimation.to_jshtml's player
    assert html.count("data:image/png;base64") >= 6 + 3              # 6 animation frames + the static figures
    nb = json.loads((tmp_path / "out" / "landscapes.ipynb").read_text(encoding="utf-8"))
    assert any(c["cell_type"] == "code" and c["outputs"] for c in nb["cells"])
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"] if o["output_type"] == "error"]
    assert errors == []


@pytest.mark.parametrize("name", ["theory", "training"])
def test_notebook_runs_top_to_bottom_with_small_settings(name):
    _kernel()
    nb = execute(ROOT / "notebooks" / f"{name}.ipynb", {"SMALL": True}, timeout=300)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images >= (2 if name == "theory" else 4)            # a figure per check / per panel pair
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("output_type") == "stream")
    assert "/tmp" not in text and "lsgdsim-theory-" not in text, "no temporary paths in the outputs"


def test_a_cell_over_its_timeout_fails_in_time_and_no_kernel_thread_is_left(tmp_path):
    """The per-cell timeout holds (a blocking kernel client would wait the cell out), and every run's kernel
    channels are closed (a kernel manager nbclient does not own leaks its client's threads)."""
    import threading
    import time

    import nbformat
    _kernel()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(20)")]
    nbformat.write(nb, tmp_path / "slow.ipynb")
    start = time.perf_counter()
    with pytest.raises(NotebookError, match="CellTimeoutError"):
        execute(tmp_path / "slow.ipynb", timeout=2)
    assert time.perf_counter() - start < 15
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, tmp_path / "ok.ipynb")
    before = threading.active_count()
    execute(tmp_path / "ok.ipynb", timeout=60)
    assert threading.active_count() == before
