import sys

from facesel.cli import main

sys.exit(main())
