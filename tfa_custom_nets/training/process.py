"""The process a role runs in: TensorFlow's thread pools and every random seed (set before anything is built),
and freed memory handed back to the OS."""

from __future__ import annotations

import ctypes
import random
import warnings

import numpy as np
import tensorflow as tf


def set_tf_threads(threads: int | None, inter_op: bool = False) -> int:
    """Sets the threads one TensorFlow op may use (and, with `inter_op`, the ops run at once), if
    TensorFlow has not run an op yet in this process; returns the intra-op setting in force (0:
    TensorFlow's default). After the first op it is fixed: a different request then warns and
    changes nothing.
    """
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            if inter_op:
                tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            warnings.warn(f"tf_threads={threads} not applied: TensorFlow already started in this process with "
                          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'its default'} intra-op "
                          "threads. Set it before any TensorFlow op runs (a fresh process: `tfa-nets train` "
                          "or the experiment's script).", RuntimeWarning, stacklevel=2)
    return tf.config.threading.get_intra_op_parallelism_threads()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)


def release_free_memory() -> None:
    """Asks glibc to hand freed heap pages back to the OS (`malloc_trim(0)`); a no-op elsewhere.

    A Reverb checkpoint serializes the whole table, and the allocator keeps the freed buffers
    for reuse, which showed as ~80 MiB steps in a run's resident memory at some checkpoints.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
