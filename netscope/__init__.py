"""netscope: see inside a PyTorch model, in the terminal and in reports."""

__version__ = "0.1.0"
