"""Evaluation of face-quality methods with a real face matcher (``facesel eval erc``).

Does rejecting the crops a method scores lowest make a face matcher fail less? Modules: matcher
(dlib ResNet embedding), cache (embeddings on disk by content hash; sensitive), protocol
(references, probes, degradation), methods (registry of quality methods), metrics (ERC, EDC, pAUC),
analysis (curves, gains, bootstrap), plots and report. Needs the ``[eval]`` extra.
"""
