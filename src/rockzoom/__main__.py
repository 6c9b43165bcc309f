import sys

from rockzoom.cli import main

sys.exit(main())
