#!/usr/bin/env bash
# A short real pipeline run (facesel run, sealed into a vault, --max-frames 40) on a shared video with
# the ASan + UBSan build of the core (docs/review.md, round 17a). Keys, vault and report go to a
# fresh temporary folder, removed at the end; no plaintext face leaves the process.
#   experiments/sanitized_pipeline.sh [VIDEO]   (default: $FACESEL_DATA/videos/arcade_walkers_1080p.mp4)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
video=${1:-${FACESEL_DATA:?set FACESEL_DATA}/videos/arcade_walkers_1080p.mp4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# the key ceremony with the release core (it does not touch _core), as README's walkthrough
FP=$(python -m facesel authority init --out authority --shares 3 --threshold 2 --generate-passphrases passphrases | awk '/fingerprint/ {print $2}')
python -m facesel camera init --out camera --camera-id san-1 --authority-fingerprint "$FP" >/dev/null
python -m facesel authority register --dir authority --camera camera/camera.pub \
  --share authority/shares/share-1-of-3.json --passphrase-file passphrases/holder-1.txt \
  --share authority/shares/share-2-of-3.json --passphrase-file passphrases/holder-2.txt >/dev/null
# the run itself under the sanitized core
"$root/experiments/sanitized_core.sh" run python -c 'import facesel._core as c; print("core:", c.__file__)'
"$root/experiments/sanitized_core.sh" run python -m facesel run "$video" --vault vault \
  --authority authority/authority.pub --camera camera --max-frames 40
echo "pipeline exit: $?"
python -m facesel list --vault vault --authority authority/authority.pub | tail -3
