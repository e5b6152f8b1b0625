"""Never builds a model."""

import sys

total = sum(range(1000))
print("total", total)
sys.exit(3)
