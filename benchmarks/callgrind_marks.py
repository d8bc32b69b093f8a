"""Instruction counts of named pieces of a Python program, under ``valgrind --tool=callgrind`` (issue 27).

Timing on a shared machine moves with the other work; the number of instructions a piece of work
executes does not. Callgrind counts instructions per C function, inclusive of what each calls, but
a Python function is just ``_PyEval_EvalFrameDefault`` to it. So each labelled piece is run
*inside a C function of its own*: a small shared library, compiled here with the system's C
compiler into a temporary folder, holds ``fsmark_item_0`` ... ``fsmark_item_63``, each of which
calls a Python callable (an extension module ``fsmark``); :meth:`Marks.wrap` replaces ``owner.name`` by a wrapper that runs the
original through the trampoline of its label. The inclusive instruction count callgrind gives
that trampoline is then the label's cost (the call into the module around it, a few hundred instructions,
included). The library also issues callgrind's client requests ``CALLGRIND_ZERO_STATS`` and
``CALLGRIND_DUMP_STATS_AT`` (``valgrind/callgrind.h``), so a measured window can start after a
warm-up and end before the program's teardown. Outside valgrind the requests do nothing and the
trampolines only add their call.

:func:`read_dump` parses a dump with ``callgrind_annotate --inclusive=yes``: ``{"total": Ir,
label: inclusive Ir, ...}``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from pathlib import Path

SLOTS = 64
"""Trampolines in the library: at most this many labels."""

_HEAD = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <valgrind/callgrind.h>
static volatile int fsmark_sink;
"""
# Each trampoline does something after its call, so that the call is no tail call (a jump that
# callgrind would charge to the caller instead). A C extension, not ctypes: libffi's closures map
# their own code pages, and valgrind 3.19 then named no function of a library loaded beside them.
_TRAMPOLINE = ("__attribute__((noinline)) PyObject *fsmark_item_{i}(PyObject *f, PyObject *a, PyObject *k) "
               "{{ PyObject *r = PyObject_Call(f, a, k); fsmark_sink = {i}; return r; }}\n")
_TAIL = r"""
typedef PyObject *(*item_fn)(PyObject *, PyObject *, PyObject *);
static item_fn items[%(slots)d] = {%(names)s};
static PyObject *run(PyObject *self, PyObject *args) {
    int slot; PyObject *f, *a, *k = NULL;
    if (!PyArg_ParseTuple(args, "iOO!|O", &slot, &f, &PyTuple_Type, &a, &k)) return NULL;
    if (slot < 0 || slot >= %(slots)d) {
        PyErr_Format(PyExc_ValueError, "slot must be in [0, %(slots)d), got %%d", slot);
        return NULL;
    }
    if (k == Py_None) k = NULL;
    if (k != NULL && !PyDict_Check(k)) { PyErr_SetString(PyExc_TypeError, "kwargs must be a dict or None"); return NULL; }
    return items[slot](f, a, k);
}
static PyObject *zero(PyObject *self, PyObject *args) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; Py_RETURN_NONE; }
static PyObject *dump(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    CALLGRIND_DUMP_STATS_AT(name);
    CALLGRIND_STOP_INSTRUMENTATION;
    Py_RETURN_NONE;
}
static PyObject *on_valgrind(PyObject *self, PyObject *args) { return PyBool_FromLong(RUNNING_ON_VALGRIND); }
static PyMethodDef methods[] = {{"run", run, METH_VARARGS, NULL}, {"zero", zero, METH_NOARGS, NULL},
    {"dump", dump, METH_VARARGS, NULL}, {"on_valgrind", on_valgrind, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fsmark", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fsmark(void) { return PyModule_Create(&module); }
"""


def build_module(folder: Path):
    """Compile the trampolines and client requests into the extension module ``fsmark`` in
    ``folder`` (cc -O1 against this Python's headers) and import it."""
    import importlib.util
    import sysconfig

    source = folder / "fsmark.c"
    names = ", ".join(f"fsmark_item_{i}" for i in range(SLOTS))
    source.write_text(_HEAD + "".join(_TRAMPOLINE.format(i=i) for i in range(SLOTS))
                      + _TAIL % {"slots": SLOTS, "names": names})
    library = folder / f"fsmark{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(["cc", "-O1", "-fPIC", "-shared", "-fno-optimize-sibling-calls",
                    f"-I{sysconfig.get_paths()['include']}", "-o", str(library), str(source)], check=True)
    spec = importlib.util.spec_from_file_location("fsmark", library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Marks:
    """Labels run inside trampolines of their own (see the module docstring).

    A label nested inside itself (a wrapped function calling another wrapped under the same label,
    or itself) runs the inner call directly, so no trampoline is ever inside itself and callgrind's
    inclusive count of it is the label's cost once."""

    def __init__(self, folder: Path | None = None):
        self._folder = tempfile.TemporaryDirectory(prefix="fsmark-") if folder is None else None
        where = Path(self._folder.name) if folder is None else folder
        self.lib = build_module(where)
        self.labels: list[str] = []
        self.calls: dict[str, int] = {}
        self._local = threading.local()

    @property
    def on_valgrind(self) -> bool:
        return bool(self.lib.on_valgrind())

    def zero(self) -> None:
        """Start callgrind's instrumentation (a run started with ``--instr-atstart=no`` runs fast
        until here) and zero its counts: the window starts here."""
        self.lib.zero()

    def dump(self, name: str) -> None:
        """Write callgrind's counts since the last zero or dump to a file of their own, named ``name``,
        and stop the instrumentation (the teardown runs fast)."""
        self.lib.dump(name)

    def inside(self, label: str) -> bool:
        """Whether this thread is inside ``label``'s trampoline now."""
        return label in self._local.__dict__.get("active", ())

    def slot(self, label: str) -> int:
        """The trampoline index of ``label`` (allocated on first use)."""
        if label not in self.labels:
            if len(self.labels) == SLOTS:
                raise ValueError(f"more than {SLOTS} labels")
            self.labels.append(label)
            self.calls[label] = 0
        return self.labels.index(label)

    def run(self, label: str, function, *args, **kwargs):
        """``function(*args, **kwargs)`` inside ``label``'s trampoline; its result or its exception."""
        active = self._local.__dict__.setdefault("active", set())
        if label in active:
            return function(*args, **kwargs)
        slot = self.slot(label)
        active.add(label)
        try:
            return self.lib.run(slot, function, args, kwargs or None)
        finally:
            active.discard(label)
            self.calls[label] += 1

    def wrap(self, owner, name: str, label) -> None:
        """Replace ``owner.name`` by a wrapper that runs it inside ``label``'s trampoline;
        ``label`` may be a function of the call's arguments giving the label."""
        inner = getattr(owner, name)

        def marked(*args, **kwargs):
            chosen = label(*args) if callable(label) else label
            return self.run(chosen, inner, *args, **kwargs)

        marked.__wrapped__ = inner
        setattr(owner, name, marked)

    def trampoline_names(self) -> dict[str, str]:
        """``{C function name: label}``."""
        return {f"fsmark_item_{i}": label for i, label in enumerate(self.labels)}


_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\S*:)?(fsmark_item_\d+)\b")
_TOTAL = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?PROGRAM TOTALS")


def read_dump(path: Path, names: dict[str, str]) -> dict[str, int]:
    """``{"total": Ir of the dump, label: inclusive Ir}`` of a callgrind dump (``names``: from
    :meth:`Marks.trampoline_names`); a label whose trampoline never ran in the window is absent."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                          check=True, capture_output=True, text=True).stdout
    out: dict[str, int] = {}
    for line in text.splitlines():
        total = _TOTAL.match(line)
        if total:
            out["total"] = int(total.group(1).replace(",", ""))
            continue
        found = _LINE.match(line)
        if found and found.group(2) in names:
            out[names[found.group(2)]] = out.get(names[found.group(2)], 0) + int(found.group(1).replace(",", ""))
    if "total" not in out:
        raise ValueError(f"no PROGRAM TOTALS in callgrind_annotate's output for {path}")
    return out


def callgrind_command(out_file: Path) -> list[str]:
    """The valgrind command line a measured run is started under: uninstrumented until
    :meth:`Marks.zero` (start-up, imports and warm-up run about ten times faster), per function
    (``--dump-instr=no``), every thread's counts together."""
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", "--instr-atstart=no", "--dump-instr=no",
            "--dump-line=no", "--compress-strings=no", "--compress-pos=no", "--separate-threads=no"]


def environment_for_valgrind() -> dict:
    """The environment for the child: one thread everywhere (valgrind runs threads one at a time
    anyway; a pool's spinning would be counted)."""
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[key] = "1"
    return env
