"""``python -m omnichannel``: the command line, as the ``omnichannel`` script runs it."""

from omnichannel._cli import main

if __name__ == "__main__":
    main(prog_name="omnichannel")
