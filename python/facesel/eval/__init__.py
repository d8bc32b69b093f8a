"""Evaluation of face-quality methods with a real face matcher (``facesel eval erc``).

Does rejecting the crops a method scores lowest make a face matcher fail less? Modules: matcher
(dlib ResNet embedding), cache (embeddings on disk by content hash; sensitive), protocol
(references, probes, degradation), method_context (what a method is built from), methods (registry
of quality methods) with supervised and vae_methods (the methods that need more), metrics (ERC,
EDC, pAUC), analysis (curves, gains, bootstrap), plots and report. Needs the ``[eval]`` extra.

``facesel eval tracks``: how well a selection rule picks among one person's frames. Modules:
track_data (detector + tracker crops of a video, embeddings; number cache), track_persons (each
track's person from the video's frontal frames, crop distances), track_signals (every rule's
per-crop inputs, one network pass per video, cached), track_windows (tracks cut into windows, the
observations), track_rules (the compared rules), track_metrics (regret, smoothed regret,
matchable, rank correlation, random expectation, plain and clip-grouped bootstrap), track_heldout
(leave-one-source-out / leave-one-clip-out choice of a rule's parameters), track_bench (run) and
track_report (tables, JSON, plot).

``facesel eval snapshots``: what a run kept against who is in the video. Modules: snapshots (the
arithmetic: people, matches, verdicts, summary), census (the matcher's view of every frame, the
frontal face check), head_checks (profile faces and a person under the box, OpenCV only),
snapshot_audit (the audit of one run) and contact_sheet.

Helpers of the evaluation and of the studies under ``experiments/``, never used by the pipeline:
degrade (self-made degradations at a controlled severity) and evidence (degradation grids, rank
correlations and AUROC on held-out faces, for the model card).
"""
