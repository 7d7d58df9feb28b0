"""Keras model builders for common trunks and heads."""

from tfa_custom_nets.models.dense import dense_q_model

__all__ = ["dense_q_model"]
