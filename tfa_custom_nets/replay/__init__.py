"""Replay on Reverb: tables, server, observers and datasets."""

from tfa_custom_nets.replay.reverb_replay import (
    TABLE,
    TransitionObserver,
    make_dataset,
    make_observer,
    make_uniform_table,
    sequence_length,
    start_server,
)

__all__ = ["TABLE", "TransitionObserver", "make_dataset", "make_observer", "make_uniform_table", "sequence_length",
           "start_server"]
