"""ftthnoc's Grafana dashboards as code (grafana-foundation-sdk), one module per dashboard.

``common`` holds what they share (data source, the district → OLT → PON port selection, query and panel
helpers, the dashboard skeleton and the probe panels two dashboards show); each dashboard module has a
``build() -> Dashboard``; ``registry`` names the file each one is written to; ``render`` writes and checks
``grafana/dashboards/*.json`` (``python grafana/build.py [--check]``). Edit these modules, not the JSON.

A new dashboard is one new module here and one line in ``registry.DASHBOARDS``.
"""
