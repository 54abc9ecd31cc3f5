"""``python -m bouncetool``."""

from bouncetool.cli import main

main()
