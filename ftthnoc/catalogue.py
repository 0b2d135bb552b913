"""The metric catalogue: every metric ftthnoc itself names, its type, unit and identity labels.

Dashboards, alert rules and the README are written against this list; a test checks that what the
poller emits for the simulated town is exactly what is catalogued, and that the README lists it.
Interface metrics keep snmp_exporter's ``if_mib`` names and are listed by the module itself.
No label here may ever carry personal data: identity only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    name: str  # as exposed (info metrics end in _info, counters in _total)
    type: str
    labels: tuple[str, ...]
    help: str
    #: the part of ftthnoc that must be switched on for the metric to exist ("" = always, when polling)
    when: str = ""


INFLUX = "FTTHNOC_INFLUX_URL set"
INCIDENTS = "an inventory database (serve, demo)"
TRAPS = "traps: configured"
PROBES = "probes: configured (root or CAP_NET_RAW)"
SERVICES = "probes.http or probes.dns configured"
TELEWORK = "telework: configured (with an inventory)"
CPE = "a target with the bwa_cpe module"
THROUGHPUT = "throughput: configured (iperf3)"
SHARDS = "serve --shard I/N"
CABINETS = "an inventory whose splitters have lat/lon"
CELL = ("station", "cell")
PROBE = ("target", "kind", "district")
ONU = ("olt", "pon_port", "onu_id", "district")
PORT = ("olt", "pon_port", "district")
SCRAPE = ("target", "module")

CATALOGUE: tuple[Entry, ...] = (
    Entry("ftth_onu_up", "gauge", ONU, "1 if the ONU runs, 0 if it is down."),
    Entry("ftth_onu_rx_power_dbm", "gauge", ONU, "Optical power the ONU receives (dBm)."),
    Entry("ftth_onu_tx_power_dbm", "gauge", ONU, "Optical power the ONU transmits (dBm)."),
    Entry("ftth_onu_olt_rx_power_dbm", "gauge", ONU, "Optical power the OLT receives from the ONU (dBm)."),
    Entry("ftth_onu_distance_meters", "gauge", ONU, "Ranging distance OLT to ONU (m)."),
    Entry("ftth_onu_temperature_celsius", "gauge", ONU, "ONU optics temperature (°C)."),
    Entry("ftth_onu_last_down_cause_info", "info", (*ONU, "cause"),
          "Why the ONU last went down: faults los, losi_lobi, lofi, sfi, loai, loami, loki, dying_gasp (power), "
          "pop_up_fail, operator_check_fail, rogue_ont, other; taken down on purpose deactivate_fail, "
          "deactivated, reset, re_register, deactivated_ring, optics_shutdown, reset_by_command, "
          "reset_by_button, reset_by_software, deactivated_broadcast_attack (Huawei)."),
    Entry("ftth_onu_last_up_timestamp_seconds", "gauge", ONU, "When the ONU last came online (Unix s; Huawei)."),
    Entry("ftth_onu_last_down_timestamp_seconds", "gauge", ONU,
          "When the ONU last went down (Unix s; Huawei): an outage's exact start, flaps between polls."),
    Entry("ftth_onu_last_dying_gasp_timestamp_seconds", "gauge", ONU,
          "When the ONU last sent a dying gasp, its home's power failing (Unix s; Huawei)."),
    Entry("ftth_onu_info", "info", (*ONU, "serial"), "The ONU's serial number (not personal data)."),
    Entry("ftth_onu_model_info", "info", (*ONU, "model", "firmware"),
          "The ONU's model (equipment ID) and active firmware as it reported them (Huawei)."),
    Entry("ftth_pon_port_onus_known", "gauge", PORT, "ONUs the OLT lists on the port, whatever their state."),
    Entry("ftth_pon_port_onus", "gauge", (*PORT, "state"), "ONUs on the port by state: up, down."),
    Entry("ftth_pon_port_onus_down", "gauge", (*PORT, "cause"),
          "Down ONUs on the port by last cause: dying_gasp, los, other (faults), deliberate (down on purpose)."),
    Entry("ftth_pon_port_up", "gauge", PORT, "1 if the PON port works, 0 if the OLT reports it faulty (Huawei)."),
    Entry("ftth_pon_port_laser_on", "gauge", PORT, "1 if the port's laser is on, 0 if switched off (Huawei)."),
    Entry("ftth_pon_port_tx_power_dbm", "gauge", PORT, "PON port transmit power (dBm; Huawei)."),
    Entry("ftth_pon_port_temperature_celsius", "gauge", PORT, "PON port optics temperature (°C; Huawei)."),
    Entry("ftth_pon_port_supply_voltage_volts", "gauge", PORT, "PON port optics supply voltage (V; Huawei)."),
    Entry("ftth_pon_port_bias_current_amperes", "gauge", PORT, "PON port laser bias current (A; Huawei)."),
    Entry("ftth_olt_rx_threshold_dbm", "gauge", ("olt", "pon_class", "level"),
          "ONU receive-power alarm levels for the OLT's PON class: low_critical, low_warning, "
          "high_warning, high_critical (configuration)."),
    Entry("ftth_bwa_cell_up", "gauge", ("station",), "1 if the eNB's cell is in service (cell status)."),
    Entry("ftth_bwa_rf_up", "gauge", ("station",), "1 if the eNB's RF is on."),
    Entry("ftth_bwa_connected_ues", "gauge", CELL, "UEs connected to the cell."),
    Entry("ftth_bwa_downlink_bytes_per_second", "gauge", CELL, "Cell downlink throughput."),
    Entry("ftth_bwa_uplink_bytes_per_second", "gauge", CELL, "Cell uplink throughput."),
    Entry("ftth_bwa_downlink_prb_utilisation_ratio", "gauge", CELL, "Downlink PRB use (0–1)."),
    Entry("ftth_bwa_uplink_prb_utilisation_ratio", "gauge", CELL, "Uplink PRB use (0–1)."),
    Entry("ftth_bwa_rrc_success_ratio", "gauge", ("station",), "RRC connection success (absent while out of service)."),
    Entry("ftth_bwa_erab_success_ratio", "gauge", ("station",), "E-RAB setup success (absent while out of service)."),
    Entry("ftth_bwa_s1_up", "gauge", ("station",), "1 if the eNB's S1 link to the core is up."),
    Entry("ftth_vpn_sessions", "gauge", ("gateway",),
          "Active remote-access sessions (staff connecting from outside; never LAN-to-LAN tunnels)."),
    Entry("ftth_vpn_users", "gauge", ("gateway",),
          "Distinct users among the remote-access sessions (ASA crasSessionTable, FortiGate SSL-VPN tunnels); a "
          "count, never a name."),
    Entry("ftth_vpn_remote_access_sessions", "gauge", ("gateway", "protocol"),
          "Remote-access sessions by protocol: ipsec, svc, webvpn (ASA); ssl, ipsec dial-up (FortiGate)."),
    Entry("ftth_vpn_all_sessions", "gauge", ("gateway",),
          "Every session the gateway counts, LAN-to-LAN included (ASA crasNumSessions)."),
    Entry("ftth_vpn_sessions_max", "gauge", ("gateway",), "The gateway's session limit, where it reports one."),
    Entry("ftth_vpn_sessions_capacity_ratio", "gauge", ("gateway",),
          "Sessions over the limit (absent when the limit is unknown)."),
    Entry("ftth_vpn_group_sessions", "gauge", ("gateway", "group"), "Sessions per tunnel group."),
    Entry("ftth_vpn_ipsec_tunnels", "gauge", ("gateway",), "Active IPsec tunnels."),
    Entry("ftth_router_arp_entry_info", "info", ("device", "if_index", "ip", "mac"),
          "An entry of a school router's ARP table (device identifiers, no personal data; one series per "
          "device on the school LAN: a few hundred per school). Feeds the tablets-seen KPI."),
    Entry("ftth_bwa_cpe_downlink_bytes_per_second", "gauge", ("cpe",), "Subscriber CPE downlink rate.", CPE),
    Entry("ftth_bwa_cpe_uplink_bytes_per_second", "gauge", ("cpe",), "Subscriber CPE uplink rate.", CPE),
    Entry("ftth_bwa_cpe_connection_duration_seconds", "gauge", ("cpe",), "Time the CPE has been attached.", CPE),
    Entry("ftth_bwa_cpe_rsrp_dbm", "gauge", ("cpe", "antenna"), "Reference signal received power.", CPE),
    Entry("ftth_bwa_cpe_rsrq_db", "gauge", ("cpe",), "Reference signal received quality.", CPE),
    Entry("ftth_bwa_cpe_sinr_db", "gauge", ("cpe",), "Signal to interference and noise.", CPE),
    Entry("ftth_bwa_cpe_tx_power_dbm", "gauge", ("cpe",), "CPE transmit power.", CPE),
    Entry("ftthnoc_scrape_success", "gauge", SCRAPE, "1 if the last poll of the target and module succeeded."),
    Entry("ftthnoc_scrape_duration_seconds", "gauge", SCRAPE, "Wall time of the last poll."),
    Entry("ftthnoc_scrape_varbinds", "gauge", SCRAPE, "Varbinds returned by the last poll."),
    Entry("ftthnoc_scrape_rejected_readings", "gauge", SCRAPE,
          "Readings of the last poll that were sentinels, out of range or malformed (no reading)."),
    Entry("ftthnoc_scrape_unanswered", "gauge", SCRAPE,
          "1 if the last poll failed because the agent stopped answering (a timeout), 0 if it answered."),
    Entry("ftthnoc_scrape_errors_total", "counter", SCRAPE, "Failed polls since ftthnoc started."),
    Entry("ftthnoc_shard_target", "gauge", ("target", "polled_by"),
          "1 for each target of the shared configuration, with the shard whose poller polls it (serve --shard).",
          SHARDS),
    Entry("ftthnoc_influx_up", "gauge", (), "1 if the last write to InfluxDB succeeded.", INFLUX),
    Entry("ftthnoc_influx_queue_points", "gauge", (), "Points waiting in memory for the writer.", INFLUX),
    Entry("ftthnoc_influx_spool_bytes", "gauge", (), "Bytes spooled on disk during an outage.", INFLUX),
    Entry("ftthnoc_influx_written_points_total", "counter", (), "Points the server acknowledged.", INFLUX),
    Entry("ftthnoc_influx_spool_dropped_points_total", "counter", (),
          "Points dropped because the spool reached its bound (oldest first).", INFLUX),
    Entry("ftthnoc_influx_write_errors_total", "counter", ("kind",),
          "Failed writes by kind: connection, server, rejected.", INFLUX),
    Entry("ftthnoc_incident_open", "gauge", ("kind", "district", "olt", "pon_port", "splitter", "scope"),
          "1 for each open incident: the one model alerts, pages and reports read. Kinds feeder_cut, "
          "power_outage, olt_unreachable, line_fault, splitter_cut, board_down, pon_port_down, uplink_down, "
          "rogue_onu, service_down; scope pon_port, district, olt, splitter, board (pon_port holds the board) or "
          "service (olt holds the service); olt, pon_port and splitter empty where the kind has none.", INCIDENTS),
    Entry("ftthnoc_incidents_open", "gauge", ("kind", "district"),
          "Open incidents by kind and district (ftthnoc_incident_open summed).", INCIDENTS),
    Entry("ftthnoc_incidents_total", "counter", ("kind",), "Incidents opened, ever (from the database).",
          INCIDENTS),
    Entry("ftthnoc_incident_affected_households", "gauge", ("kind", "district"),
          "Households affected by open incidents (counts only; the households are in the database).", INCIDENTS),
    Entry("ftthnoc_onu_down_events_total", "counter", ("cause", "district"),
          "ONU down events classified since start: dying_gasp (power), los (fibre/ONU), other.", INCIDENTS),
    Entry("ftthnoc_probe_icmp_requests_total", "counter", PROBE, "Echo requests sent (smokeping_prober style).",
          PROBES),
    Entry("ftthnoc_probe_icmp_responses_total", "counter", PROBE, "Echo replies received.", PROBES),
    Entry("ftthnoc_probe_icmp_response_duration_seconds", "histogram", PROBE, "Round-trip times (0.5 ms … 1 s).",
          PROBES),
    Entry("ftthnoc_probe_icmp_loss_ratio", "gauge", PROBE, "Share of the last cycle's echoes unanswered (1 = "
          "unreachable).", PROBES),
    Entry("ftthnoc_probe_icmp_rtt_seconds", "gauge", (*PROBE, "stat"), "Last cycle's RTT min, avg, max.", PROBES),
    Entry("ftthnoc_probe_icmp_jitter_seconds", "gauge", PROBE, "RFC 3550 interarrival jitter.", PROBES),
    Entry("ftthnoc_probe_tcp_connect_seconds", "gauge", (*PROBE, "port"), "SYN to SYN-ACK (or RST) time.", PROBES),
    Entry("ftthnoc_probe_tcp_up", "gauge", (*PROBE, "port"), "1 if the port answered SYN-ACK.", PROBES),
    Entry("ftthnoc_probe_arp_tablet_seen", "gauge", ("school", "tablet"),
          "1 if the registered tablet (asset number) answered the last ARP sweep.", PROBES),
    Entry("ftthnoc_probe_arp_tablet_last_seen_timestamp_seconds", "gauge", ("school", "tablet"),
          "When the tablet last answered.", PROBES),
    Entry("ftthnoc_probe_arp_unknown_macs", "gauge", ("school", "subnet"), "Unregistered MACs that answered.",
          PROBES),
    Entry("ftthnoc_probe_arp_private_macs", "gauge", ("school", "subnet"),
          "Unregistered private (locally administered) MACs that answered.", PROBES),
    Entry("ftthnoc_probe_arp_hosts", "gauge", ("school", "subnet"), "Hosts that answered the sweep.", PROBES),
    Entry("ftthnoc_probe_arp_sweep_success", "gauge", ("school", "subnet"), "1 if the sweep could run.", PROBES),
    Entry("ftthnoc_probe_http_success", "gauge", PROBE,
          "1 if the town's web service answered the last GET as expected (status, body, verified TLS).", SERVICES),
    Entry("ftthnoc_probe_http_status_code", "gauge", PROBE, "HTTP status of the last answer; 0 if none.", SERVICES),
    Entry("ftthnoc_probe_http_duration_seconds", "gauge", PROBE, "Wall time of the last HTTP check.", SERVICES),
    Entry("ftthnoc_probe_http_phase_seconds", "gauge", (*PROBE, "phase"),
          "The last HTTP check's time by phase: connect, tls, processing, transfer.", SERVICES),
    Entry("ftthnoc_probe_http_redirects", "gauge", PROBE, "Redirects the last HTTP check followed.", SERVICES),
    Entry("ftthnoc_probe_tls_cert_expiry_timestamp_seconds", "gauge", PROBE,
          "When the presented certificate (the leaf at least) expires (Unix s).", SERVICES),
    Entry("ftthnoc_probe_dns_success", "gauge", PROBE,
          "1 if the town's DNS answered NOERROR with records (and the expected addresses).", SERVICES),
    Entry("ftthnoc_probe_dns_duration_seconds", "gauge", PROBE, "Query to answer time of the last check.", SERVICES),
    Entry("ftthnoc_probe_dns_rcode", "gauge", PROBE, "Rcode of the last DNS answer (absent without one).", SERVICES),
    Entry("ftthnoc_probe_dns_answer_rrs", "gauge", PROBE, "Answer records of the last DNS answer.", SERVICES),
    Entry("ftthnoc_probe_service_failed_cycles", "gauge", (*PROBE, "probe"),
          "Cycles in a row the service check (http, dns) failed; 0 after a success.", SERVICES),
    Entry("ftthnoc_probe_success", "gauge", ("probe",),
          "1 if the last cycle of the probe (icmp, tcp, arp; http, dns when configured) ran.", PROBES),
    Entry("ftthnoc_probe_duration_seconds", "gauge", ("probe",), "Wall time of the last cycle.", PROBES),
    Entry("ftthnoc_school_tablets", "gauge", ("school",), "Active tablets registered to the school.", INCIDENTS),
    Entry("ftthnoc_school_tablets_seen", "gauge", ("school", "period"),
          "Active tablets of the school seen (ARP sweep, the school router's ARP table or an MDM's last sync) "
          "in the last period: 24h, 7d (the tablets-seen KPI as counts).", INCIDENTS),
    Entry("ftthnoc_tablets_seen_at_home", "gauge", ("district",),
          "Active tablets seen at home (an MDM's last sync from an address a household line of the district held, "
          "ISP lease import) in the last 7 days; absent where the KPI page suppresses the count.", INCIDENTS),
    Entry("ftthnoc_district_info", "info", ("district", "lat", "lon"),
          "A district's map point (its town hall or branch office, ftthnoc.geo): lat and lon in degrees, WGS 84; "
          "the NOC overview's Geomap reads them.", INCIDENTS),
    Entry("ftthnoc_cabinet_info", "info", ("cabinet", "lat", "lon"),
          "A splitter cabinet's map point, where the inventory places its splitters (lat, lon in degrees).",
          CABINETS),
    Entry("ftthnoc_school_uplink_recommended_bytes_per_second", "gauge", ("school",),
          "MEXT's recommended uplink bandwidth for the school's pupils (2024 table).", INCIDENTS),
    Entry("ftthnoc_school_uplink_info", "info", ("school", "device", "interface"),
          "Which polled router (if_mib's device) and interface (its ifName) is the school's uplink (inventory).",
          INCIDENTS),
    Entry("ftthnoc_school_throughput_bits_per_second", "gauge", ("school", "direction"),
          "Throughput the school's last active test achieved (iperf3, parallel TCP streams from the school's probe "
          "point to the town's measurement server), by direction: download, upload. MEXT's verdict reads download.",
          THROUGHPUT),
    Entry("ftthnoc_school_throughput_test_success", "gauge", ("school", "direction"),
          "1 if the school's last throughput test in the direction ran, 0 if it failed (server unreachable, "
          "iperf3 error).", THROUGHPUT),
    Entry("ftthnoc_school_throughput_test_timestamp_seconds", "gauge", ("school", "direction"),
          "When the school's last throughput test in the direction started (Unix s).", THROUGHPUT),
    Entry("ftthnoc_telework_remote_share_ratio", "gauge", ("period", "source"),
          "Share of staff working remotely: today so far (day) and this month's finished working days (month).",
          TELEWORK),
    Entry("ftthnoc_telework_office_reduction_ratio", "gauge", ("period", "source"),
          "Reduction in office attendance (remote share over the attendance baseline).", TELEWORK),
    Entry("ftthnoc_telework_target_attainment_ratio", "gauge", ("period", "source"),
          "Reduction over the target.", TELEWORK),
    Entry("ftthnoc_telework_target_ratio", "gauge", (), "The plan's target reduction (0.30).", TELEWORK),
    Entry("ftthnoc_telework_staff", "gauge", (), "Staff headcount from configuration.", TELEWORK),
    Entry("ftthnoc_telework_coverage_ratio", "gauge", ("period",),
          "Share of today's working time covered by session samples (outages are gaps, not zeros).", TELEWORK),
    Entry("ftthnoc_telework_figures_counted", "gauge", ("period", "source"), "Working-day figures counted this month.",
          TELEWORK),
    Entry("ftthnoc_traps_received_total", "counter", ("kind", "source"),
          "Traps and informs turned into events, by event kind and sending device.", TRAPS),
    Entry("ftthnoc_traps_dropped_total", "counter", ("reason",),
          "Traps dropped: unknown_community, unknown_user, bad_auth, not_in_time_window, unknown_engine_id, "
          "malformed, unsupported_pdu, unmapped, other.", TRAPS),
    Entry("ftthnoc_traps_kernel_dropped_total", "counter", (),
          "Datagrams the kernel dropped on the trap port (receive buffer full): traps that never arrived.", TRAPS),
    Entry("ftthnoc_consumer_queue", "gauge", ("consumer",),
          "Polls and events waiting for a consumer that runs off the poll loop (incidents, kpis, telework).",
          INCIDENTS),
    Entry("ftthnoc_consumer_dropped_total", "counter", ("consumer",),
          "Polls and events a consumer dropped because its queue was full.", INCIDENTS),
    Entry("ftthnoc_consumer_busy_seconds_total", "counter", ("consumer",),
          "Seconds a consumer spent on polls and events, its database writes included.", INCIDENTS),
)

def help_of(family: str) -> str | None:
    """The catalogue's own HELP for a family (named as collected: ``x`` for ``x_info`` and ``x_total``), or None.

    Vendor-neutral metrics take their HELP from here, not from whichever vendor's module made them first,
    so that ``ftth_onu_rx_power_dbm`` does not cite a ZTE object on a Huawei OLT."""
    return _HELP.get(family)


def names(when: str | None = "") -> set[str]:
    """Catalogued names; by default those a plain poller always exposes, ``None`` for all."""
    return {e.name for e in CATALOGUE if when is None or e.when == when}


_HELP: dict[str, str] = {
    **{e.name: e.help for e in CATALOGUE},
    **{e.name.removesuffix("_info"): e.help for e in CATALOGUE if e.type == "info"},
}
