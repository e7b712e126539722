"""PyInstaller entry point: start the bundled app exactly as the installed `tend` command does (console.app:main).

A separate file rather than console/__main__.py: PyInstaller puts the script's folder first on sys.path, and with the
package folder there its modules would also import as top-level ones; console/secrets.py would shadow the standard
library's `secrets`.
"""

import sys

from console.app import main

if __name__ == "__main__":
    sys.exit(main())
