import sys

from fnetlab.cli import main

sys.exit(main())
