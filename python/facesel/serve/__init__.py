"""The camera service: ``facesel serve --config facesel.toml`` (see :mod:`facesel.serve.service`)."""
