"""Execute the notebooks of ``notebooks/`` in fresh kernels and export them, with their outputs, as HTML.

``lsgdsim notebooks [--out DIR] [--small] [--only NAME]`` (or ``python -m lsgdsim.notebooks_run``) runs
each notebook top to bottom in a new kernel (nbclient) and writes ``DIR/NAME.html`` and ``DIR/NAME.ipynb``
(default ``reports/notebooks``). ``--small`` sets ``SMALL = True`` the way the tests do: a cell injected
right after the notebook's cell tagged "parameters" (papermill's convention), so the committed notebook
stays as it is. A failing cell stops its notebook with that cell's error; the other notebooks still run.

Needs the ``notebooks`` extra (``pip install -e .[notebooks]``): nbclient, nbconvert, ipykernel.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import sys
import tempfile
import time
from pathlib import Path

from .outputs import atomic_write_text, check_output_dir

NOTEBOOKS = ("landscapes", "theory", "training")
PARAMETERS_TAG, INJECTED_TAG = "parameters", "injected-parameters"
EXIT_FAILED = 1
DESCRIPTION = ("Run each notebook of notebooks/ top to bottom in a fresh kernel and write NAME.html and NAME.ipynb "
               "with its outputs. --small sets SMALL = True after each notebook's parameters cell (the tests' "
               "settings). A failing cell stops its notebook with that cell's error; the others still run.")


class NotebookError(RuntimeError):
    """A cell of a notebook raised: the message names the notebook, the cell and its error (one line);
    ``traceback`` holds the kernel's full traceback."""

    def __init__(self, message: str, traceback: str = ""):
        super().__init__(message)
        self.traceback = traceback


def notebook_dir() -> Path:
    """The repository's ``notebooks/`` folder (beside the lsgdsim package in a source checkout)."""
    return Path(__file__).resolve().parent.parent / "notebooks"


def find(names=None, folder=None) -> list[Path]:
    """The notebooks to run: ``names`` (default :data:`NOTEBOOKS`) in ``folder`` (default :func:`notebook_dir`).

    ValueError naming ``only`` for an unknown name, naming the folder when a notebook is missing."""
    folder = Path(folder) if folder is not None else notebook_dir()
    names = list(NOTEBOOKS) if not names else list(dict.fromkeys(names))
    for name in names:
        if name not in NOTEBOOKS:
            raise ValueError(f"--only must be one of {', '.join(NOTEBOOKS)}; got {name!r}")
    paths = [folder / f"{name}.ipynb" for name in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ValueError(f"notebooks {', '.join(missing)} not found in {folder} (run from a source checkout)")
    return paths


def inject(nb, parameters: dict):
    """A copy of ``nb`` with a cell setting ``parameters`` right after its cell tagged "parameters".

    The values are written with ``repr`` (numbers, strings, booleans, lists, None). ValueError when the
    notebook has no parameters cell."""
    import nbformat
    i = next((k for k, cell in enumerate(nb.cells) if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])),
             None)
    if i is None:
        raise ValueError("the notebook has no cell tagged 'parameters' to override")
    out = copy.deepcopy(nb)
    source = "# Parameters injected by lsgdsim.notebooks_run\n" + "".join(
        f"{k} = {v!r}\n" for k, v in parameters.items())
    injected = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    injected.pop("id", None)                    # nbformat < 4.5 notebooks have no cell ids
    if "id" in nb.cells[i]:
        injected["id"] = f"{nb.cells[i]['id']}-injected"
    out.cells.insert(i + 1, injected)
    return out


def _failure(path: Path, nb, exc) -> NotebookError:
    index = next((k for k, c in enumerate(nb.cells) if c.cell_type == "code"
                  and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    where = f"cell {index}" if index is not None else "a cell"
    what = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
    return NotebookError(f"notebook {path.name}: {where} raised {' '.join(what.split())}", str(exc))


def execute(path, parameters: dict | None = None, timeout: int = 900, on_cell=None):
    """Run the notebook at ``path`` top to bottom in a fresh kernel started in its folder.

    ``parameters`` (e.g. ``{"SMALL": True}``) are injected after its parameters cell. ``timeout`` is per
    cell, in seconds. ``on_cell(done, total)`` is called after each code cell. Returns the executed
    notebook; raises :class:`NotebookError` naming the failing cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from traitlets.config import Config
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if parameters:
        nb = inject(nb, parameters)
    with tempfile.TemporaryDirectory(prefix="lsgdsim-kernel-") as sockets:
        # The kernel talks over local sockets in a private folder: no TCP port, nothing sent in plain text.
        # nbclient makes (and so shuts down and cleans up) the kernel manager; the config reaches it.
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "kernel")}})
        total, done = sum(c.cell_type == "code" and bool(c.source.strip()) for c in nb.cells), [0]

        def executed(**_):
            done[0] += 1
            if on_cell is not None:
                on_cell(min(done[0], total), total)
        client = NotebookClient(nb, config=ipc, timeout=timeout, kernel_name="python3", on_cell_executed=executed,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError) as exc:
            raise _failure(path, nb, exc) from exc
    return nb


def to_html(nb) -> str:
    """The executed notebook as one HTML page (outputs, figures and animations embedded)."""
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def run_all(out=Path("reports") / "notebooks", small: bool = False, names=None, folder=None, timeout: int = 900,
            stream=None) -> dict[str, float]:
    """Execute the notebooks and write ``out/NAME.html`` and ``out/NAME.ipynb`` for each; returns {name: seconds}.

    The folder and the notebooks are checked before any work. A notebook that fails is reported and the
    others still run; then :class:`NotebookError` is raised with every failure."""
    stream = sys.stdout if stream is None else stream     # looked up now: a redirected stdout is honoured
    out = check_output_dir(out, "--out")
    paths = find(names, folder)
    import nbformat
    times, errors = {}, []
    for path in paths:
        start = time.perf_counter()
        print(f"{path.stem}: running …", file=stream, flush=True)
        try:
            with _cell_bar(path.stem) as on_cell:
                nb = execute(path, {"SMALL": True} if small else None, timeout, on_cell)
        except NotebookError as exc:
            print(f"{path.stem}: FAILED: {exc}", file=stream)
            errors.append(str(exc))
            continue
        times[path.stem] = time.perf_counter() - start
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / f"{path.stem}.ipynb", nbformat.writes(nb))
        atomic_write_text(out / f"{path.stem}.html", to_html(nb))
        print(f"{path.stem}: {times[path.stem]:.0f} s → {out / path.stem}.html", file=stream)
    if errors:
        raise NotebookError("; ".join(errors))
    return times


@contextlib.contextmanager
def _cell_bar(name: str):
    """A progress bar over a notebook's code cells (with the time each took so far), on a terminal only."""
    from tqdm.auto import tqdm
    bar = tqdm(desc=name, unit="cell", leave=False, file=sys.stderr, disable=not sys.stderr.isatty())

    def on_cell(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)
    try:
        yield on_cell
    finally:
        bar.close()


# -- the `lsgdsim notebooks` subcommand ----------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=str(Path("reports") / "notebooks"), metavar="DIR",
                   help="folder for NAME.html and NAME.ipynb with outputs (default reports/notebooks)")
    p.add_argument("--small", action="store_true", help="SMALL = True: the tests' small settings (seconds each)")
    p.add_argument("--only", action="append", metavar="NAME", help=f"only this notebook (repeatable): "
                   f"{', '.join(NOTEBOOKS)}")
    p.add_argument("--timeout", type=int, default=900, help="seconds one cell may run (default 900)")


def register(subparsers) -> None:
    p = subparsers.add_parser("notebooks", help="execute the notebooks and export them as HTML with outputs",
                              description=DESCRIPTION)
    add_arguments(p)
    p.set_defaults(handler=cmd_notebooks)


def cmd_notebooks(args) -> int:
    """Bad arguments raise ValueError (the CLI prints one line and exits 2); failed notebooks exit 1."""
    if args.timeout < 1:
        raise ValueError(f"--timeout must be ≥ 1 second; got {args.timeout}")
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        raise ValueError(f"the notebooks extra is not installed ({exc.name} missing): pip install -e .[notebooks]") \
            from None
    try:
        run_all(args.out, args.small, args.only, timeout=args.timeout)
    except NotebookError as exc:
        print(f"lsgdsim: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":  # pragma: no cover
    from .cli import main
    sys.exit(main(["notebooks", *sys.argv[1:]]))
