"""ItemLayout packs a step's fields into one byte column and unpacks them exactly (no Reverb here)."""

import numpy as np
import pytest
import tensorflow as tf

from tfa_custom_nets import replay

SPEC = {
    "image": tf.TensorSpec((2, 3), tf.uint8),
    "mask": tf.TensorSpec((4,), tf.bool),
    "small": tf.TensorSpec((), tf.int8),
    "step": tf.TensorSpec((), tf.int32),
    "action": tf.TensorSpec((2,), tf.int64),
    "observation": tf.TensorSpec((3,), tf.float32),
    "value": tf.TensorSpec((), tf.float64),
}


def random_step(rng):
    return {"image": rng.integers(0, 256, (2, 3)).astype(np.uint8), "mask": rng.random(4) < 0.5,
            "small": np.int8(rng.integers(-128, 128)), "step": np.int32(rng.integers(-2**31, 2**31 - 1)),
            "action": rng.integers(-2**62, 2**62, 2),  # beyond float precision: a cast would lose them
            "observation": rng.normal(size=3).astype(np.float32) * np.float32(1e30), "value": rng.normal() * 1e-300}


def test_steps_round_trip_exactly_for_every_dtype_and_shape():
    layout = replay.ItemLayout(SPEC, n_step_update=2)
    assert layout.width == 6 + 4 + 1 + 4 + 16 + 12 + 8
    assert layout.signature == tf.TensorSpec((3, layout.width), tf.uint8)
    rng = np.random.default_rng(0)
    steps = [[random_step(rng) for _ in range(3)] for _ in range(5)]  # 5 items of n + 1 = 3 steps
    packed = np.stack([[layout.pack(tf.nest.flatten(step)) for step in item] for item in steps])
    assert packed.shape == (5, 3, layout.width) and packed.dtype == np.uint8
    unpacked = layout.unpack(tf.constant(packed))
    for name, spec in SPEC.items():
        assert unpacked[name].dtype == spec.dtype and unpacked[name].shape == (5, 3, *spec.shape)
        expected = np.array([[step[name] for step in item] for item in steps], spec.dtype.as_numpy_dtype)
        np.testing.assert_array_equal(unpacked[name].numpy(), expected)


def test_a_batch_of_envs_packs_as_each_env_alone_and_unpacks_under_an_unknown_batch_size():
    layout = replay.ItemLayout(SPEC)
    rng = np.random.default_rng(1)
    envs = [random_step(rng) for _ in range(4)]
    batched = tf.nest.map_structure(lambda *rows: np.stack(rows), *envs)
    rows = layout.pack(tf.nest.flatten(batched), batched=True)
    np.testing.assert_array_equal(rows, np.stack([layout.pack(tf.nest.flatten(env)) for env in envs]))

    unpack = tf.function(layout.unpack, input_signature=[tf.TensorSpec((None, 2, layout.width), tf.uint8)])
    items = unpack(tf.constant(np.stack([rows[:2], rows[2:]])))
    np.testing.assert_array_equal(items["action"].numpy().reshape(4, 2), batched["action"])


def test_a_step_that_does_not_match_the_spec_is_refused():
    layout = replay.ItemLayout({"observation": tf.TensorSpec((4,), tf.float32)})
    with pytest.raises(ValueError, match="packs to 12 bytes but the data spec's fields take 16"):
        layout.pack([np.zeros(3, np.float32)])
