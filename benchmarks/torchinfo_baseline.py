"""Baseline for bench_core: torchinfo.summary on a sample model, as one whole process."""

import importlib.util
import sys

import torchinfo


def main(model_file: str) -> None:
    spec = importlib.util.spec_from_file_location("sample", model_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    batch = module.example_input()
    torchinfo.summary(model, input_data=batch, verbose=0, depth=20)


if __name__ == "__main__":
    main(sys.argv[1])
