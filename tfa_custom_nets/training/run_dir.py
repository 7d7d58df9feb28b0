"""The run directory: made, marked and claimed by one process (its lock), prepared for a new run or a resume,
and the storage errors it can meet. What the config in it may name is `run_config.py`'s rule; its metrics are
`metrics.py`'s; its checkpoints `checkpoints.py`'s."""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import os
import re
import shutil
import signal
import sys
import threading
import traceback
from pathlib import Path

import tensorflow as tf

from tfa_custom_nets.training.checkpoints import LoopState, latest_checkpoint, use_readable_checkpoint
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.run_config import portable_config

RUN_LOCK = "run.lock"  # holds the pid of the process running in the directory
RUN_MARKER = ".tfa-nets-run"  # written first into every directory this library makes a run of
# Everything a run writes in its directory (a launcher's and the learner's too): the only entries a restart
# in place may remove. Anything else in a marked directory is the user's, and the restart is refused.
RUN_ENTRIES = frozenset({RUN_MARKER, "config.json", "metrics.csv", "summary.json", "learning_curve.png",
                         "resumes.json", "tensorboard", "checkpoints", "policy", "best_policy", "logs", "sources",
                         "replay"})


def make_run_dir(run_dir: str | None, env_id: str, name: str, seed: int, may_hold: tuple[str, ...] = (),
                 claim: bool = True) -> Path:
    """`run_dir`, or `runs/{env}__{name}__{seed}__{time}`: created, marked and claimed for this process.

    Only an empty (or new) directory becomes a run, with two exceptions: entries named in `may_hold`
    (prepared by a launcher) are kept, and a run that this library started (its `RUN_MARKER` is there)
    and that stopped before its first checkpoint (a `config.json`, no checkpoint, no summary) is started
    again in place: what the run wrote is removed, nothing else. A directory with anything else in it
    is refused with what to do, never cleared. The claim is a lock file made with `O_EXCL`, so of two
    runs started into one directory at once, one wins.
    """
    if run_dir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        env_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", env_id)
        run_dir = os.path.join("runs", f"{env_name}__{name}__{seed}__{stamp}")
    path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"--run-dir {path} is a file, not a directory; name a new or empty directory.")
    path.mkdir(parents=True, exist_ok=True)
    if claim:
        claim_run_dir(path)
    held = [entry for entry in path.iterdir()  # a claim's lock, and another claimant's pid file, are not a run
            if entry.name not in (*may_hold, RUN_LOCK, RUN_MARKER) and not entry.name.startswith(f".{RUN_LOCK}.")]
    if held:
        problem = _why_not_restartable(path, held)
        if problem is not None:
            if claim:
                release_run_dir(path)
            raise FileExistsError(problem)
        for entry in held:  # a run of ours that failed before its first checkpoint: start it again in place
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (path / RUN_MARKER).write_text("a tfa_custom_nets run directory: tfa-nets may restart or resume it\n")
    return path


def _why_not_restartable(path: Path, held: list[Path]) -> str | None:
    """None if `path` is a run of ours that never reached a checkpoint and holds only what a run writes."""
    if not (path / RUN_MARKER).is_file():
        names = ", ".join(sorted(entry.name for entry in held)[:5]) + (", ..." if len(held) > 5 else "")
        return (f"--run-dir {path} is not empty ({names}) and is not a tfa-nets run directory (no {RUN_MARKER}): "
                "nothing in it is touched. Name a new or empty directory.")
    if not never_checkpointed(path):
        return (f"run directory {path} already holds a run; pick another --run-dir, remove it, or continue it "
                "with --resume.")
    foreign = sorted(entry.name for entry in held if entry.name not in RUN_ENTRIES)
    if foreign:
        return (f"run directory {path} holds a run that stopped before its first checkpoint, and also "
                f"{', '.join(foreign)}, which no run writes: move those away (or pick another --run-dir) to start "
                "the run again there.")
    return None


def never_checkpointed(path: Path) -> bool:
    """A run directory whose run stopped before its first checkpoint (nothing to resume)."""
    return ((path / "config.json").is_file() and not (path / "checkpoints" / "checkpoint").exists()
            and not (path / "summary.json").exists())


def claim_run_dir(path: Path) -> None:
    """Puts `path/run.lock` naming this process in place atomically (a hard link of a file that already
    holds the pid: a reader never sees an empty lock); a FileExistsError if a live process holds it."""
    lock, mine = path / RUN_LOCK, path / f".{RUN_LOCK}.{os.getpid()}"
    mine.write_text(str(os.getpid()))
    try:
        for _ in range(2):
            try:
                os.link(mine, lock)
                return
            except FileExistsError:
                try:
                    pid = int(lock.read_text())
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise FileExistsError(f"run directory {path} is in use by process {pid}; wait for it, or pick "
                                          "another --run-dir.") from None
                lock.unlink(missing_ok=True)  # left by a process that died (a kill, a crash): stale
        raise FileExistsError(f"run directory {path}: another process claimed it at the same moment.")
    finally:
        mine.unlink(missing_ok=True)


def release_run_dir(path: Path) -> None:
    """Removes this process's lock on `path`, if it holds it."""
    lock = path / RUN_LOCK
    with contextlib.suppress(OSError, ValueError):
        if int(lock.read_text()) == os.getpid():
            lock.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def guarded_run_dir(path: Path):
    """While a run works in `path`: an exception's full traceback goes to `path/logs/error.txt` (the
    exception gets `run_dir` and `traceback_path` attributes for the CLI's one-line message), a failed
    write becomes a `StorageError` that says what to do, a Ctrl-C before the loop runs says the
    directory is as it was, and the directory's lock is released however the run ends."""
    try:
        yield path
    except KeyboardInterrupt as stop:  # the loop's own Ctrl-C (`loop_core.Interrupted`) says what it saved
        if str(stop):
            raise
        # Outside the loop's own handler (while building, or closing): say what the directory holds, not a guess.
        saved = (path / "checkpoints" / "checkpoint").exists()
        raise KeyboardInterrupt(
            f"interrupted; this interruption saved nothing, and {path} holds " + (
                "its last checkpoint: continue with --resume " + str(path) if saved else
                "no checkpoint: start it again with the same --run-dir (it is taken over)") + ".") from None
    except Exception as caught:
        message = storage_failure(caught, path)
        error = caught if message is None else StorageError(message)
        if error is not caught:
            error.__cause__ = caught
        logs = path / "logs"
        with contextlib.suppress(OSError):
            logs.mkdir(exist_ok=True)
            (logs / "error.txt").write_text("".join(traceback.format_exception(error)))
            error.traceback_path = str(logs / "error.txt")
        error.run_dir = str(path)
        if error is caught:
            raise
        raise error from caught
    finally:
        release_run_dir(path)


@contextlib.contextmanager
def sigint_ignored():
    """Ignores Ctrl-C (SIGINT) while the block runs: a run already stopping on one saves its checkpoint whole
    whatever follows. A no-op off the main thread, where signal handlers cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class StorageError(OSError):
    """The run could not write to its directory: a full disk, a file-size limit, a read-only or
    unwritable place. The message names the path, the free space and what a checkpoint needs."""


_STORAGE_ERRNOS = {errno.ENOSPC: "no space left on the device", errno.EFBIG: "a file grew past the size limit",
                   errno.EDQUOT: "the disk quota is used up", errno.EROFS: "the file system is read-only",
                   errno.EACCES: "permission denied", errno.EPERM: "permission denied"}
_STORAGE_TEXTS = {"No space left on device": errno.ENOSPC, "File too large": errno.EFBIG,
                  "Disk quota exceeded": errno.EDQUOT, "Read-only file system": errno.EROFS,
                  "Permission denied": errno.EACCES}


def storage_failure(error: BaseException, run_dir: Path) -> str | None:
    """A one-line fix-it message if `error` is a failed write (Python's `OSError` or TensorFlow's
    file errors, which carry only a message), else None."""
    code, path = getattr(error, "errno", None), getattr(error, "filename", None)
    if not isinstance(error, OSError) or code not in _STORAGE_ERRNOS:
        if not isinstance(error, (OSError, tf.errors.OpError)):
            return None
        text = str(error)
        code = next((c for marker, c in _STORAGE_TEXTS.items() if marker in text), None)
        if code is None:
            return None
        found = re.search(r"(?:^|\s)(/[^\s;]+?)(?:\.tempstate\d+)?(?:[\s;]|$)", text)  # after TF's op name
        path = found.group(1) if found else None
    where = Path(path) if path else run_dir
    try:
        free = f"{shutil.disk_usage(next(p for p in (where, *where.parents) if p.exists())).free / 2**20:.0f} MiB free"
    except (OSError, StopIteration):
        free = "free space unknown"
    return (f"cannot write {where}: {_STORAGE_ERRNOS[code]} ({free} there; one checkpoint of this run takes "
            f"{checkpoint_megabytes(run_dir)}). The previous checkpoint stays usable: make room (or make the "
            f"directory writable) and continue with --resume {run_dir}.")


def checkpoint_megabytes(run_dir: Path) -> str:
    """The size of the run's newest checkpoint (the agent's and, with Reverb, the replay's) as text."""
    newest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    if newest is None:
        return "an unknown amount (no checkpoint written yet)"
    files = list(Path(newest).parent.glob(Path(newest).name + ".*"))
    replays = sorted((p for p in (run_dir / "replay").glob("*") if p.is_dir()), key=lambda p: p.name)
    if replays:
        files += [f for f in replays[-1].rglob("*") if f.is_file()]
    return f"about {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB"


def write_json(path: Path, data: dict) -> None:
    """Writes via a temporary file of this process and thread and a rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def resumable_run_dir(run_dir: str | Path) -> Path:
    """`run_dir` if it holds an unfinished run with a usable checkpoint, else a ValueError that says why.

    Folders a kill left half-written (`checkpoints/*_temp`) are removed; a newest checkpoint that
    cannot be read (truncated `.data` or `.index`) gives way to the previous one, and a line says so.
    """
    path = Path(run_dir)
    if not (path / "config.json").is_file():
        raise ValueError(f"cannot resume {path}: no config.json there (is it a run directory?).")
    if not (path / RUN_MARKER).is_file():  # a resume removes half-written checkpoint folders: only in our own runs
        raise ValueError(f"cannot resume {path}: it is not marked as a tfa-nets run directory (no {RUN_MARKER}), so "
                         f"nothing in it is touched. If a tfa-nets version before the marker made it, create the "
                         f"marker (`touch {path / RUN_MARKER}`) and resume again.")
    if (path / "summary.json").is_file():
        raise ValueError(f"cannot resume {path}: the run finished (summary.json is written).")
    if latest_checkpoint(path) is None:
        raise ValueError(f"cannot resume {path}: it has no checkpoint yet; start it again with the same --run-dir.")
    for partial in (path / "checkpoints").glob("*_temp*"):
        if partial.is_dir():
            shutil.rmtree(partial)
    use_readable_checkpoint(path / "checkpoints")
    return path



def prepare_run_dir(config: TrainConfig, resume: bool = False, may_hold: tuple[str, ...] = (),
                    claim: bool = True) -> tuple[Path, TrainConfig]:
    """The run directory, claimed for this process (unless `claim` is False: a launcher prepares it
    for its learner), and the config the run uses.

    A resume checks `config.run_dir`. A new run creates its directory, copies the source files the
    config names (an env factory, a model function) into `sources/`, and writes `config.json`
    naming those copies relative to the run directory, so the directory can be moved and still
    evaluated and resumed.
    """
    if resume:
        run_dir = resumable_run_dir(config.run_dir)
        if claim:
            claim_run_dir(run_dir)
        return run_dir, config
    run_dir = make_run_dir(config.run_dir, config.env.id, config.name, config.seed, may_hold, claim)
    config = config.replace(run_dir=str(run_dir))
    stored, config = portable_config(config, run_dir)
    write_json(run_dir / "config.json", stored.to_dict())
    return run_dir, config



def set_replay_aside(run_dir: Path, config: TrainConfig) -> None:
    """For a resume with an empty replay: the replay's own checkpoints (Reverb's) (if any are left) move
    to `replay.set-aside-N/`, kept rather than deleted, so the resumed server starts with none."""
    if config.replay_capabilities.restored_from != "own_files":
        raise ValueError("--empty-replay: this run's replay is in memory and saved inside its checkpoint, so it "
                         "cannot be missing; resume without --empty-replay.")
    folder = run_dir / "replay"
    if folder.is_dir() and any(folder.iterdir()):
        index = 1 + sum(1 for _ in run_dir.glob("replay.set-aside-*"))
        folder.rename(run_dir / f"replay.set-aside-{index}")
        print(f"tfa-nets: the replay checkpoints moved to {run_dir / f'replay.set-aside-{index}'}; the run "
              "continues with an empty replay.", file=sys.stderr, flush=True)



def record_resume(run_dir: Path, state: LoopState, replay_items_loaded: int) -> None:
    """Appends this resume to the state and to `resumes.json`."""
    state.resumes.append({"env_steps": state.env_steps, "updates": state.updates,
                          "replay_items_saved": state.replay_items, "replay_items_loaded": replay_items_loaded})
    write_json(run_dir / "resumes.json", {"resumes": state.resumes})
