"""The llama of benchmarks/plan/models.py as a netscope model file (its batch and its loss)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import netscope_file

build_model, example_input, loss = netscope_file("llama")
