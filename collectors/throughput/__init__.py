"""Active throughput tests from the schools' probe points to the town's iperf3 measurement server (MEXT's
当面の推奨帯域 is a measured achievable bandwidth). Entry point: :class:`collectors.throughput.tester.
ThroughputTester`; configuration: :class:`collectors.throughput.config.ThroughputConfig` (``throughput:``)."""

from collectors.throughput.config import Schedule, SchoolProbe, ThroughputConfig
from collectors.throughput.iperf import Iperf3Run, parse, run_iperf3
from collectors.throughput.tester import ThroughputTester

__all__ = ["Iperf3Run", "Schedule", "SchoolProbe", "ThroughputConfig", "ThroughputTester", "parse", "run_iperf3"]
