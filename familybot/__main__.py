"""`python -m familybot`: the command line in familybot/cli/."""

import sys

from familybot.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
