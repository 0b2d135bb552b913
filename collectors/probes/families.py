"""Probe results → neutral metric families, named after smokeping_prober and blackbox_exporter.

Identity labels only: ``target`` (the configured name), ``kind``, ``district`` where known, the target's
extra identity labels; ``school`` and ``tablet`` (the asset number, never a pupil) for ARP.

The response-time histogram is a family of type ``"histogram"`` whose samples are named
``<name>_bucket`` (with ``le``), ``<name>_sum`` and ``<name>_count``, as prometheus_client's
``HistogramMetricFamily`` holds them; the bucket counts and the two ``_total`` counters are cumulative
since the prober started.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from collectors.probes.arp import ArpCycle
from collectors.probes.config import ProbeTarget, ServiceTarget
from collectors.probes.dns import DnsResult
from collectors.probes.http import HttpResult
from collectors.probes.icmp import IcmpResult
from collectors.probes.tcp import TcpResult
from ftthnoc.samples import MetricFamily, Sample

ICMP_FAMILIES = (
    "ftthnoc_probe_icmp_requests_total",
    "ftthnoc_probe_icmp_responses_total",
    "ftthnoc_probe_icmp_response_duration_seconds",
    "ftthnoc_probe_icmp_loss_ratio",
    "ftthnoc_probe_icmp_rtt_seconds",
    "ftthnoc_probe_icmp_jitter_seconds",
)


def target_labels(kind: str, target: ProbeTarget) -> dict[str, str]:
    lab = {"target": target.name, "kind": kind}
    if target.district:
        lab["district"] = target.district
    lab.update(target.labels)
    return lab


def le(bound: float) -> str:
    """Bucket bounds as Prometheus writes them (``0.0005``, ``1.0``, ``+Inf``)."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def icmp_families(results: Sequence[IcmpResult]) -> list[MetricFamily]:
    requests = MetricFamily("ftthnoc_probe_icmp_requests_total", "ICMP echo requests sent to the target "
                            "since the prober started.", type="counter")
    responses = MetricFamily("ftthnoc_probe_icmp_responses_total", "ICMP echo replies received in time "
                             "from the target since the prober started.", type="counter")
    hist_name = "ftthnoc_probe_icmp_response_duration_seconds"
    hist = MetricFamily(hist_name, "ICMP echo round-trip times since the prober started.", type="histogram",
                        unit="seconds")
    loss = MetricFamily("ftthnoc_probe_icmp_loss_ratio", "Share of the last cycle's echo requests that went "
                        "unanswered (1 for a host that does not answer at all).", unit="ratio")
    rtt = MetricFamily("ftthnoc_probe_icmp_rtt_seconds", "Round-trip time over the last cycle's replies: "
                       "min, avg, max (absent when nothing answered).", unit="seconds")
    jitter = MetricFamily("ftthnoc_probe_icmp_jitter_seconds", "RFC 3550 interarrival jitter of the round-"
                          "trip times, a running estimate (absent when the last cycle had no reply).",
                          unit="seconds")
    for r in results:
        lab = target_labels(r.kind, r.target)
        st = r.state
        requests.add(lab, float(st.requests))
        responses.add(lab, float(st.responses))
        if st.histogram is not None:
            for bound, count in st.histogram.cumulative():
                hist.samples.append(Sample(f"{hist_name}_bucket", {**lab, "le": le(bound)}, float(count)))
            hist.samples.append(Sample(f"{hist_name}_sum", dict(lab), st.histogram.total))
            hist.samples.append(Sample(f"{hist_name}_count", dict(lab), float(st.histogram.count)))
        loss.add(lab, r.stats.loss_ratio)
        s = r.stats
        if s.min is not None and s.avg is not None and s.max is not None:
            for stat, value in (("min", s.min), ("avg", s.avg), ("max", s.max)):
                rtt.add({**lab, "stat": stat}, value)
            if st.jitter.differences:
                jitter.add(lab, st.jitter.value)
    return [requests, responses, hist, loss, rtt, jitter]


def tcp_families(results: Sequence[tuple[str, ProbeTarget, TcpResult]]) -> list[MetricFamily]:
    seconds = MetricFamily("ftthnoc_probe_tcp_connect_seconds", "Time from SYN to the target's answer "
                           "(SYN-ACK or RST) in the last cycle; absent when nothing answered.", unit="seconds")
    up = MetricFamily("ftthnoc_probe_tcp_up", "1 if the port answered the last cycle's SYN with SYN-ACK, "
                      "0 if refused (RST) or silent.")
    for kind, target, r in results:
        lab = {**target_labels(kind, target), "port": str(r.port)}
        up.add(lab, 1.0 if r.up else 0.0)
        if r.seconds is not None:
            seconds.add(lab, r.seconds)
    return [seconds, up]


def arp_families(cycle: ArpCycle) -> list[MetricFamily]:
    seen = MetricFamily("ftthnoc_probe_arp_tablet_seen", "1 if the registered tablet answered the last ARP "
                        "sweep of its school's subnets, 0 if not (absent when the sweep failed).")
    last = MetricFamily("ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds", "Unix time of the last sweep "
                        "the tablet answered (absent until it has answered once).", unit="seconds")
    unknown = MetricFamily("ftthnoc_probe_arp_unknown_macs", "Distinct globally administered MACs that "
                           "answered the last sweep of the subnet and are neither registered tablets nor "
                           "school infrastructure.")
    private = MetricFamily("ftthnoc_probe_arp_private_macs", "Distinct locally administered (private, random "
                           "per-network) MACs that answered the last sweep of the subnet and are no registered "
                           "tablet's: not identified, not counted as unknown.")
    hosts = MetricFamily("ftthnoc_probe_arp_hosts", "Addresses of the subnet that answered the last sweep.")
    success = MetricFamily("ftthnoc_probe_arp_sweep_success", "1 if the last sweep of the subnet ran (the "
                           "interface exists and packets could be sent).")
    for s in cycle.subnets:
        lab = {"school": s.school, "subnet": s.subnet}
        success.add(lab, 1.0 if s.success else 0.0)
        if s.success:
            unknown.add(lab, float(s.unknown_macs))
            private.add(lab, float(s.private_macs))
            hosts.add(lab, float(s.hosts))
    for t in cycle.tablets:
        lab = {"school": t.school, "tablet": t.asset_no}
        if t.seen is not None:
            seen.add(lab, 1.0 if t.seen else 0.0)
        if t.last_seen is not None:
            last.add(lab, t.last_seen)
    return [seen, last, unknown, private, hosts, success]


def service_labels(target: ServiceTarget) -> dict[str, str]:
    lab = {"target": target.name, "kind": target.kind}
    if target.district:
        lab["district"] = target.district
    lab.update(target.labels)
    return lab


def failed_cycles_family(probe: str, failed: Mapping[str, tuple[ServiceTarget, int]]) -> MetricFamily:
    """Consecutive failed cycles per service target (0 after a success): the alert counts cycles, not
    minutes, so it means the same whatever ``cycle_seconds`` is."""
    fam = MetricFamily("ftthnoc_probe_service_failed_cycles", "Cycles in a row the service check (http, dns) "
                       "of the target has failed; 0 when the last succeeded.")
    for target, count in failed.values():
        fam.add({**service_labels(target), "probe": probe}, float(count))
    return fam


def http_families(results: Sequence[HttpResult]) -> list[MetricFamily]:
    success = MetricFamily("ftthnoc_probe_http_success", "1 if the last GET answered with an expected status "
                           "(and matching body, over a verified TLS connection), 0 if not.")
    status = MetricFamily("ftthnoc_probe_http_status_code", "HTTP status of the last answer (after redirects "
                          "when followed); 0 when nothing answered.")
    duration = MetricFamily("ftthnoc_probe_http_duration_seconds", "Wall time of the last check, connect to "
                            "the end of the body read.", unit="seconds")
    phase = MetricFamily("ftthnoc_probe_http_phase_seconds", "The last check's time by phase (connect, tls, "
                         "processing, transfer), summed over redirects.", unit="seconds")
    redirects = MetricFamily("ftthnoc_probe_http_redirects", "Redirects followed by the last check.")
    expiry = MetricFamily("ftthnoc_probe_tls_cert_expiry_timestamp_seconds", "When the earliest-expiring "
                          "certificate the server presented (the leaf at least) expires, Unix seconds; absent "
                          "over plain HTTP or without a handshake.", unit="seconds")
    for r in results:
        lab = service_labels(r.target)
        success.add(lab, 1.0 if r.success else 0.0)
        status.add(lab, float(r.status or 0))
        duration.add(lab, r.seconds)
        for name, seconds in r.phases.items():
            phase.add({**lab, "phase": name}, seconds)
        redirects.add(lab, float(r.redirects))
        if r.cert_expiry is not None:
            expiry.add(lab, r.cert_expiry)
    return [success, status, duration, phase, redirects, expiry]


def dns_families(results: Sequence[DnsResult]) -> list[MetricFamily]:
    success = MetricFamily("ftthnoc_probe_dns_success", "1 if the last query was answered NOERROR with records "
                           "(holding the expected addresses, when configured), 0 if not.")
    duration = MetricFamily("ftthnoc_probe_dns_duration_seconds", "Time from query to answer (or to giving up) "
                            "of the last check.", unit="seconds")
    rcode = MetricFamily("ftthnoc_probe_dns_rcode", "Response code of the last answer (0 NOERROR, 2 SERVFAIL, "
                         "3 NXDOMAIN, 5 REFUSED); absent when nothing answered.")
    answers = MetricFamily("ftthnoc_probe_dns_answer_rrs", "Records in the answer section of the last answer; "
                           "absent when nothing answered.")
    for r in results:
        lab = service_labels(r.target)
        success.add(lab, 1.0 if r.success else 0.0)
        duration.add(lab, r.seconds)
        if r.rcode is not None:
            rcode.add(lab, float(r.rcode))
            answers.add(lab, float(r.answer_rrs))
    return [success, duration, rcode, answers]


def cycle_families(outcomes: Mapping[str, tuple[bool, float]]) -> list[MetricFamily]:
    """Per probe (icmp, tcp, arp, http, dns): did the cycle run at all, and how long it took."""
    success = MetricFamily("ftthnoc_probe_success", "1 if the last cycle of the probe ran (raw sockets "
                           "permitted, no internal error); per-target results say what answered.")
    duration = MetricFamily("ftthnoc_probe_duration_seconds", "Wall time of the probe's last cycle.",
                            unit="seconds")
    for probe, (ok, seconds) in outcomes.items():
        success.add({"probe": probe}, 1.0 if ok else 0.0)
        duration.add({"probe": probe}, seconds)
    return [success, duration]
