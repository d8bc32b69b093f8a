"""The investigator's desk: find, open with K of N shares, view and export evidence in a browser.

* :mod:`~facesel.review.catalog` -- metadata search of a vault (no keys, no pixels).
* :mod:`~facesel.review.holders` -- collects shares one holder at a time, never keeping a
  passphrase or a share file, and rebuilds the master key.
* :mod:`~facesel.review.memory_open` -- verifies, decrypts *in memory* and logs an opening.
* :mod:`~facesel.review.bundle` / :mod:`~facesel.review.verify_bundle` -- the evidence bundle
  (zip) and its offline check (``facesel verify-bundle``).
* :mod:`~facesel.review.index_page` -- ``index.html`` beside the folders of ``facesel open``.
* :mod:`~facesel.review.app` -- the Starlette application (``facesel review``); needs the
  ``review`` extra (``starlette``, ``uvicorn``, ``python-multipart``, ``jinja2``).

See docs/review.md.
"""
