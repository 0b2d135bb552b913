"""Write ``grafana/dashboards/*.json`` from the dashboard modules in ``grafana/dashboards_src/``.

``python grafana/build.py`` after editing a dashboard; ``--check`` exits 1 when the checked-in JSON is not
what the modules build (lint and the tests check the same). Run as a script: its folder is on sys.path.
"""

import sys

from dashboards_src.render import main

if __name__ == "__main__":
    sys.exit(main())
