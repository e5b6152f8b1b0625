"""``python -m netscope.agent``: the earlier name of ``python -m netscope.rank`` (one rank under
torchrun), kept so launch lines written for it keep working."""

import sys

from netscope.rank import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
