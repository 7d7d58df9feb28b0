"""The packaged presets: one module per preset, each defining `CONFIG` (a `TrainConfig`) and the model and env
builders it names, by module (`tfa_custom_nets.presets.cartpole:build_q_model`), so an installed package trains,
evaluates and resumes them with no checkout. `experiments/<name>/` in the repository holds each preset's README
and results.

    tfa-nets presets                                  # these, and any user folder's, with where each comes from
    tfa-nets train cartpole --seed 1                  # or: python -m tfa_custom_nets.presets.cartpole --seed 1

A user's own preset is an `experiment.py` defining `CONFIG` in `$TFA_NETS_EXPERIMENTS/<name>/` or
`./experiments/<name>/` (it adds a name, never replaces a packaged one), or any `.py` path given to `tfa-nets
train`.
"""
