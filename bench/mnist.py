"""Shared MNIST loader for the peer benchmarks: 70,000 x 784 float32 in [0, 1] plus labels."""
import gzip
import os

import numpy as np


def load_mnist(folder):
    def read(name, offset):
        with gzip.open(os.path.join(folder, name), "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

    x = np.concatenate([read("train-images-idx3-ubyte.gz", 16), read("t10k-images-idx3-ubyte.gz", 16)])
    y = np.concatenate([read("train-labels-idx1-ubyte.gz", 8), read("t10k-labels-idx1-ubyte.gz", 8)])
    return (x.reshape(-1, 784).astype(np.float32) / 255.0), y.astype(np.int64)
