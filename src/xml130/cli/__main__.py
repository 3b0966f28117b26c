"""``python -m xml130.cli``."""

from . import main

if __name__ == "__main__":
    main()
