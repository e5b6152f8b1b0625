"""Compute and memory of the example step: FLOPs per block, saved activations, the step's peak,
the optimizer's state, "will it fit" and the device peaks MFU is measured against.

Counted from the ops that really run (a dispatch mode under the snapshot's own forward and
backward), on any device, meta included; see docs/compute.md.
"""
