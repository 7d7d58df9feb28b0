"""Each file in tfa_custom_nets/networks/ works when copied alone into another project."""

import shutil
import subprocess
import sys
from pathlib import Path

NETWORKS = Path(__file__).resolve().parents[2] / "tfa_custom_nets" / "networks"
FILES = sorted(p for p in NETWORKS.glob("*.py") if p.name != "__init__.py")

USE_EACH = """
import importlib, sys
import tensorflow as tf
from tf_agents.specs import tensor_spec
obs = tensor_spec.TensorSpec((4,), tf.float32)
actions = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1)
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    cls = next(getattr(module, attr) for attr in dir(module)
               if attr.lower() == name.replace("_", "") and isinstance(getattr(module, attr), type))
    width = 2 * 3 if "categorical" in name else 2
    extra = {"num_atoms": 3} if "categorical" in name else {}
    spec = actions
    if "branching" in name:
        width, spec = 2 + 3, tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [1, 2])
    if "joint" in name:
        width, spec, extra = 2 + 3, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 5), {"branch_sizes": [2, 3]}
    model = lambda: tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(width)])
    out, _ = cls(obs, spec, model, **extra)(tf.zeros([1, 4]))
    print(name, out.shape)
assert not [m for m in sys.modules if m.startswith("tfa_custom_nets")], "imported the package"
"""


def test_every_network_file_runs_from_an_empty_directory(tmp_path):
    assert FILES, "no network files found"
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    # -I: isolated mode, so neither the repo nor an editable install is on sys.path.
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = f"import sys; sys.path[:0] = {[str(tmp_path)] + site!r}\n" + USE_EACH
    result = subprocess.run([sys.executable, "-I", "-c", code, *[p.stem for p in FILES]],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for path in FILES:
        assert path.stem in result.stdout


SHARED_HELPERS = ("_fresh_model", "_check_inputs", "_declared_input_dtypes", "_model_inputs", "_cast")


def test_copied_helpers_stay_identical_across_network_files():
    """Each file carries its own copy of the shared helpers (so it stands alone); they must not drift."""
    import ast

    sources = {}
    for path in FILES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in SHARED_HELPERS:
                sources.setdefault(node.name, {})[path.name] = ast.dump(node)
    assert set(sources) == set(SHARED_HELPERS)
    for name, by_file in sources.items():
        assert len(by_file) == len(FILES), f"{name} missing from {set(p.name for p in FILES) - set(by_file)}"
        assert len(set(by_file.values())) == 1, f"{name} differs between {sorted(by_file)}"
