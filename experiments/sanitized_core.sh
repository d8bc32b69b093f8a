#!/usr/bin/env bash
# Build facesel._core under AddressSanitizer + UndefinedBehaviorSanitizer (alignment included) and run
# a command against it (docs/review.md, round 17a). The release build and its flags are untouched: the
# sanitized module goes to build/asan/ and is reached through an overlay package (a copy of
# python/facesel/ made at each run, with the sanitized _core), so python/facesel/_core*.so stays
# the release one.
#
#   experiments/sanitized_core.sh build            # configure + build (gcc; about 6 min on 2 cores)
#   experiments/sanitized_core.sh run CMD ARGS...  # run CMD with the sanitized core first on PYTHONPATH
#
# e.g. experiments/sanitized_core.sh run python -m pytest tests/test_bindings_boundary.py -q -p no:cacheprovider
#
# Environment for `run`: LD_PRELOAD of gcc's libasan (it must be first in the process, before python
# loads any library), detect_leaks=0 (CPython keeps its objects at exit by design), abort_on_error so
# a finding kills the process with SIGABRT (a forked child dies visibly), UBSan halting on the first
# report (-fno-sanitize-recover makes every UB check fatal at compile time already); ASan's
# max_allocation_size (6 GiB, null on failure: numpy's MemoryError) stands in for the 6 GiB
# address-space cap of the sweep's and test_bindings_boundary's children, which ASan cannot run under. The overlay
# directory is first on PYTHONPATH, tests/ second (the sweep imports tests/binding_calls.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FACESEL_ASAN_BUILD:-$root/build/asan}
cmd=${1:-}
shift || true

sanitize="-fsanitize=address,undefined,alignment,float-cast-overflow -fno-sanitize-recover=undefined,alignment,float-cast-overflow -fno-omit-frame-pointer"

case "$cmd" in
  build)
    CC=gcc CXX=g++ cmake -S "$root" -B "$build" -DSKBUILD=ON -DFACESEL_CUDA=OFF -DFACESEL_TESTS=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_SHARED_LINKER_FLAGS="$sanitize" \
      -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=OFF \
      -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
      -DPython_EXECUTABLE="$(command -v python)"
    cmake --build "$build" -j"${JOBS:-2}" --target _core
    echo "sanitized core: $(ls "$build"/python/bindings/_core*.so)"
    ;;
  run)
    so=$(ls "$build"/python/bindings/_core*.so 2>/dev/null | head -1)
    [ -n "$so" ] || { echo "no sanitized build at $build: run '$0 build' first" >&2; exit 2; }
    # The overlay: a fresh copy of python/facesel (sources only; a copy, not symlinks, so that
    # Path(facesel.__file__).resolve(), which tests use for their children's PYTHONPATH, stays in
    # it) with the sanitized _core in place of the release one.
    # One overlay per run (this shell's pid, which exec keeps), so that runs side by side do not
    # replace each other's package; those of runs that ended are removed.
    for old in "$build"/overlay-*; do
      if [ -d "$old" ] && ! kill -0 "${old##*-}" 2>/dev/null; then rm -rf "$old"; fi
    done
    overlay=$build/overlay-$$
    mkdir -p "$overlay"
    cp -r "$root/python/facesel" "$overlay/facesel"
    find "$overlay/facesel" \( -name '_core*.so' -o -name '__pycache__' \) -prune -exec rm -rf {} +
    cp "$so" "$overlay/facesel/"
    libasan=$(gcc -print-file-name=libasan.so)

    # libstdc++ too: python does not link it, and ASan resolves its __cxa_throw interceptor at start;
    # with libstdc++ loaded later (by _core), the first C++ exception aborts in ASan's CHECK
    # ("real___cxa_throw != 0"), which would read as a crash of every refusal.
    libstdcxx=$(gcc -print-file-name=libstdc++.so.6)
    export LD_PRELOAD="$libasan:$libstdcxx${LD_PRELOAD:+:$LD_PRELOAD}"
    export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:max_allocation_size=6442450944${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    export PYTHONPATH="$overlay:$root/tests${PYTHONPATH:+:$PYTHONPATH}"
    export FACESEL_SANITIZED_CORE=1
    exec "$@"
    ;;
  *)
    echo "usage: $0 build | run CMD [ARGS...]" >&2
    exit 2
    ;;
esac
