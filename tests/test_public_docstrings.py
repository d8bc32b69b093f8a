"""Every public function, class and method of the package says what it does.

The project's standard for code others pick up: docstrings (with shapes and dtypes for arrays).
Session 17 wrote the last missing ones (189 public names had none); this keeps it so. Public:
a module, class or function whose name does not start with ``_``, defined in that module (not
imported), and the methods and properties a class defines itself. A method inherits its base
class's docstring (``inspect.getdoc``), so an implementation of a documented interface needs
none of its own. A dataclass's generated signature is not a docstring.

Modules that cannot be imported here (an optional extra not installed) are left out, not failed.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "facesel"


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return names


def _own_doc(obj) -> bool:
    """Whether ``obj`` has a docstring of its own or inherited, not a dataclass's generated one."""
    doc = inspect.getdoc(obj)
    if not doc:
        return False
    generated = inspect.isclass(obj) and "__dataclass_fields__" in vars(obj) and doc.startswith(f"{obj.__name__}(")
    return not generated


def _undocumented(module) -> list[str]:
    missing = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not _own_doc(obj):
            missing.append(f"{module.__name__}.{name}")
        if not inspect.isclass(obj):
            continue
        for member, value in vars(obj).items():
            if member.startswith("_"):
                continue
            if isinstance(value, property):
                if not (value.__doc__ or inspect.getdoc(value)):
                    missing.append(f"{module.__name__}.{name}.{member}")
                continue
            function = getattr(value, "__func__", value)
            if inspect.isfunction(function) and not inspect.getdoc(getattr(obj, member)):
                missing.append(f"{module.__name__}.{name}.{member}")
    return missing


def test_the_package_has_modules_to_check():
    assert len(_modules()) > 150


def test_every_public_function_class_and_method_has_a_docstring():
    missing, imported = [], 0
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra (the central store, the desk, training) not installed
            continue
        imported += 1
        missing += _undocumented(module)
    assert imported > 100
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(missing)
