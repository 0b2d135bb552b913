"""The probe tests' namespace lab (skipped with the kernel's reason when not root), for the shaped links."""

from __future__ import annotations

from tests.collectors.probes.conftest import lab as lab
from tests.collectors.probes.conftest import netns_ok as netns_ok
