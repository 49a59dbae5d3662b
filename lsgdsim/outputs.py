"""Safe output: check a location before the work, write atomically, rescue a write that fails.

What a command that runs for minutes needs so that its result is never lost:

- :func:`check_output_path` / :func:`check_output_dir` look at an output location *before* the work
  (the folder exists or can be made, a file can be created in it, the target is not a folder) and
  raise a one-line ``ValueError`` that names the option (``--out``, ``--json``, ...).
- :func:`atomic_write` writes a temporary file beside the target and renames it over the target, so a
  reader never sees half a file. The file gets the mode an ordinary ``open(path, "w")`` would give it
  (the existing file's mode, or 0o666 minus the umask). Temporary files are named
  ``.NAME.lsgdsim-tmp-PID-XXXX``; one left behind by a process that was killed (SIGKILL, power loss) is
  removed by the next atomic write to that folder.
- :func:`write_with_fallback` keeps the data in memory when the write fails (disk full, folder gone)
  and tries fallback folders (``$LSGDSIM_RESCUE_DIR``, the temporary folder, the home folder), naming
  where it went; :func:`marked_path` names the sibling of a result that is partial or diverged
  (``run.npz`` → ``run-partial.npz``), so that such a result never replaces a complete one.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TMP_MARK = ".lsgdsim-tmp-"
_TMP_NAME = re.compile(r"^\..+\.lsgdsim-tmp-(\d+)-[0-9a-f]+$")
_UMASK_LOCK = threading.Lock()


class OutputError(OSError):
    """Neither the requested file nor any fallback could be written (the data is still in memory)."""


# -- checks before the work ----------------------------------------------------------------------------
def _as_path(path, option: str) -> Path:
    try:
        text = os.fspath(path)
    except TypeError:
        raise ValueError(f"{option} must be a path; got {path!r}") from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        raise ValueError(f"{option} must be a path; got an empty string")
    if "\0" in text:
        raise ValueError(f"{option} {text!r} is not a valid path (it contains a NUL byte)")
    p = Path(text)
    for part in p.parts:
        if len(os.fsencode(part)) > 255:
            raise ValueError(f"{option} {text!r} is not a valid path (a name longer than 255 bytes)")
    return p


def _probe_folder(folder: Path, option: str, target: Path) -> None:
    """Raise ValueError unless ``folder`` (or, if it does not exist yet, the ancestor that will hold it)
    is a folder in which a file can be created; a real probe, so read-only file systems are caught too."""
    ancestor = folder
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ValueError(f"{option} {target}: {ancestor} is a broken symbolic link")
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{option} {target}: {ancestor} is not a folder, so {folder} cannot be made")
    probe = ancestor / f".lsgdsim-probe-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        where = "" if ancestor == folder else f" (needed to make {folder})"
        raise ValueError(f"{option} {target}: cannot write in {ancestor}{where}: {exc.strerror or exc}") from None
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_output_path(path, option: str = "output") -> Path:
    """Check, before any work, that a file can be written at ``path``; return it as a Path.

    The target must not be a folder; its folder must exist or be creatable, and writable. An existing
    non-regular file (``/dev/stdout``, a FIFO) must be writable; it is written in place. Raises a
    one-line ``ValueError`` that starts with ``option`` (e.g. ``--out``). Creates nothing.
    """
    p = _as_path(path, option)
    if p.is_dir():
        raise ValueError(f"{option} {p} is a folder; give a file name")
    if p.exists() and not p.is_file():
        if not os.access(p, os.W_OK):
            raise ValueError(f"{option} {p} exists and is not writable")
        return p
    _probe_folder(p.parent, option, p)
    return p


def check_output_dir(path, option: str = "output folder") -> Path:
    """Check, before any work, that ``path`` is a folder that exists or can be made, and is writable."""
    p = _as_path(path, option)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {p} exists and is not a folder")
    _probe_folder(p, option, p)
    return p


# -- atomic writes ----------------------------------------------------------------------------------
def current_umask() -> int:
    """The process umask, read without changing it where /proc allows (Linux), else set-and-restore."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """What ``open(path, "w")`` would leave: the existing file's mode, or 0o666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists (another user's) or cannot tell: keep the file
    return True


def remove_stale_temporaries(folder) -> list[Path]:
    """Remove ``.NAME.lsgdsim-tmp-PID-XXXX`` files in ``folder`` whose process PID is gone; return them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def temporary_name(path) -> Path:
    """The recognisable temporary file beside ``path``: ``.NAME.lsgdsim-tmp-PID-XXXX``."""
    path = Path(path)
    return path.parent / f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"


def atomic_write(path, write: Callable, *, binary: bool = False) -> Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file beside ``path``, which is then
    fsynced and renamed over ``path``; returns ``path``.

    The file gets the mode ``open(path, "w")`` would give (umask respected, an existing file's mode
    kept); text is UTF-8 with newlines written as given. On any error (or KeyboardInterrupt) the
    temporary file is removed and ``path`` is left as it was. A symbolic link is followed (its target is
    replaced, as ``open`` would write it); an existing non-regular file (``/dev/stdout``) is written in
    place. Stale temporaries of dead processes in the folder are removed first.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    text_kw = {} if binary else {"newline": "", "encoding": "utf-8"}
    if path.exists() and not path.is_file():  # a device or FIFO: it cannot be renamed over
        with open(path, "wb" if binary else "w", **text_kw) as fh:
            write(fh)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    mode = _mode_for(path)
    tmp = temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **text_kw) as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (JSON summaries, reports)."""
    return atomic_write(path, lambda fh: fh.write(text))


# -- names and rescue ------------------------------------------------------------------------------
def marked_path(path, mark: str) -> Path:
    """The sibling of ``path`` marked ``mark``: ``results/run-x.npz`` → ``results/run-x-partial.npz``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{mark}{path.suffix}")


def default_fallback_dirs() -> list[Path]:
    """Where a failed write goes instead: ``$LSGDSIM_RESCUE_DIR``, the temporary folder, the home folder."""
    dirs = [os.environ.get("LSGDSIM_RESCUE_DIR"), tempfile.gettempdir(), os.path.expanduser("~")]
    out: list[Path] = []
    for d in dirs:
        if d and Path(d) not in out:
            out.append(Path(d))
    return out


@dataclass(frozen=True)
class Written:
    """Where a write went: ``path`` is ``requested`` unless that failed (``error``) and a fallback was used."""

    path: Path
    requested: Path
    error: OSError | None = None

    @property
    def rescued(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if not self.rescued:
            return f"wrote {self.path}"
        return f"could not write {self.requested} ({_reason(self.error)}); wrote {self.path} instead"


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def write_with_fallback(save: Callable[[Path], object], path, fallback_dirs=None) -> Written:
    """Call ``save(path)``; if it raises OSError (disk full, quota, folder removed), call
    ``save(fallback)`` with ``fallback = DIR/STEM-rescued-PID.SUFFIX`` for each fallback folder in turn.

    Returns a :class:`Written` naming where the data went. When every attempt fails, raises
    :class:`OutputError` listing them all; the caller still holds the data (nothing was discarded).
    """
    path = Path(path)
    try:
        save(path)
        return Written(path, path)
    except OSError as exc:
        first = exc
    tried = [f"{path} ({_reason(first)})"]
    here = path.parent.resolve()
    for folder in default_fallback_dirs() if fallback_dirs is None else fallback_dirs:
        folder = Path(folder)
        if folder.resolve() == here:
            continue
        candidate = folder / f"{path.stem}-rescued-{os.getpid()}{path.suffix}"
        try:
            save(candidate)
            return Written(candidate, path, first)
        except OSError as exc:
            tried.append(f"{candidate} ({_reason(exc)})")
    raise OutputError(first.errno or errno.EIO, f"could not write {'; nor '.join(tried)}")
