"""Training and ONNX export of facesel's VAE face-quality model (PyTorch; the ``[train]`` extra).

Not part of the installed package: facesel at run time needs only ONNX Runtime, NumPy and the C++
core. ``facesel train`` imports this folder from a source checkout.
"""
