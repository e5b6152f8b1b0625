"""The cnn of benchmarks/plan/models.py as a netscope model file (its batch and its loss)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import MODELS

build, batch = MODELS["cnn"]


def build_model():
    return build()


def example_input():
    return batch()


def loss(output, batch):
    return output.loss if isinstance(batch, dict) else output.float().mean()
