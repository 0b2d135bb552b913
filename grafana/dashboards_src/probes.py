"""プローブ / Probes (``dashboards/probes.json``).

Smokeping-style latency and loss per probe target, TCP service ports, the town's online services (HTTP and
DNS checks: up, response time, certificate days left), and the probe cycles.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db

from .common import (
    DASHED,
    UP_DOWN,
    dashboard,
    probe_cycle_duration,
    probe_cycles,
    q,
    query_var,
    rows,
    series,
    single,
    states,
    table_q,
)

#: The probe targets the `kind` and `target` variables choose.
PSEL = 'kind=~"$kind", target=~"$target"'
#: Probe series that name a target: ICMP targets, and TCP-only targets (no ICMP series) too.
PROBE_TARGETS = '__name__=~"ftthnoc_probe_icmp_requests_total|ftthnoc_probe_tcp_up"'
#: The town's online services (HTTP and DNS checks) have their own variable: a host's kind (gateway,
#: school) says nothing of them, and choosing one must not empty the services row.
SERVICES = '__name__=~"ftthnoc_probe_http_success|ftthnoc_probe_dns_success"'
SSEL = 'target=~"$service"'


def both(suffix: str) -> str:
    """The HTTP and the DNS checks' ``ftthnoc_probe_{http,dns}_<suffix>`` as one query, told apart by a
    ``probe`` label: one query has data whichever kind of service is chosen."""
    return " or ".join(f'label_replace(ftthnoc_probe_{p}_{suffix}{{{SSEL}}}, "probe", "{p}", "", "")'
                       for p in ("http", "dns"))


def build() -> db.Dashboard:
    d = dashboard("ftthnoc-probes", "プローブ / Probes",
                  "ICMP latency, loss and jitter per target, TCP connect time per target and port, probe cycles.")
    d = (d.with_variable(query_var(
            "kind", "種別 / Kind", f'label_values({{{PROBE_TARGETS}, district=~"$district|"}}, kind)',
            "Kind of probe target (gateway, school, ...); targets without a district are always listed"))
         .with_variable(query_var(
            "target", "対象 / Target",
            f'label_values({{{PROBE_TARGETS}, district=~"$district|", kind=~"$kind"}}, target)',
            "Probe targets of the chosen kinds in the chosen districts (and those without a district)"))
         .with_variable(query_var(
            "service", "サービス / Service", f"label_values({{{SERVICES}}}, target)",
            "The town's online services checked by HTTP or DNS (probes.http, probes.dns)")))
    rtt = "ftthnoc_probe_icmp_response_duration_seconds_bucket"
    return (
        d.with_panel(single(
            "応答なしの対象 / Targets unreachable", "Targets that answered none of the last cycle's echoes.",
            q(f"count(ftthnoc_probe_icmp_loss_ratio{{{PSEL}}} == 1) or vector(0)", "unreachable"),
            w=6, steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "損失のある対象 / Targets losing packets", "Targets that lost more than 20 % of the last cycle's "
            "echoes (FtthProbeLossHigh's level).",
            q(f"count(ftthnoc_probe_icmp_loss_ratio{{{PSEL}}} > 0.2) or vector(0)", "losing"),
            w=6, steps=((None, "green"), (1, "orange"))))
        .with_panel(single(
            "停止中のサービスポート / Service ports down", "TCP ports that did not answer SYN-ACK last cycle.",
            q(f"count(ftthnoc_probe_tcp_up{{{PSEL}}} == 0) or vector(0)", "down"),
            w=6, steps=((None, "green"), (1, "red"))))
        .with_panel(single(
            "中央値 RTT（最大） / Worst median RTT", "Highest median round-trip time over the chosen targets.",
            q(f"max(histogram_quantile(0.5, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval]))))",
              "p50"), w=6, unit="s", steps=((None, "green"), (0.05, "orange"), (0.25, "red"))))
        .with_panel(series(
            "応答時間 / Round-trip time (median and 95th percentile)",
            "From the RTT histogram over the rate window, smokeping style: solid p50, dashed p95.",
            q(f"histogram_quantile(0.5, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval])))",
              "{{target}} p50"),
            q(f"histogram_quantile(0.95, sum by (le, target) (rate({rtt}{{{PSEL}}}[$__rate_interval])))",
              "{{target}} p95"),
            w=24, unit="s").override_by_query("B", DASHED))
        .with_panel(series(
            "損失率 / Packet loss", "Share of each cycle's echoes unanswered; 100 % = unreachable.",
            q(f"ftthnoc_probe_icmp_loss_ratio{{{PSEL}}}", "{{kind}} {{target}}"), unit="percentunit")
            .min(0).max(1))
        .with_panel(series(
            "ジッタ / Jitter", "RFC 3550 interarrival jitter of the round-trip times.",
            q(f"ftthnoc_probe_icmp_jitter_seconds{{{PSEL}}}", "{{kind}} {{target}}"), unit="s"))
        .with_panel(series(
            "RTT 最小・平均・最大 / RTT min, avg and max", "Over the last cycle's replies.",
            q(f"ftthnoc_probe_icmp_rtt_seconds{{{PSEL}}}", "{{target}} {{stat}}"), unit="s"))
        .with_panel(rows(
            "対象の状態 / Targets now", "Loss and average RTT of the last cycle, per target.",
            table_q(f"max by (kind, target, district) (ftthnoc_probe_icmp_loss_ratio{{{PSEL}}})"),
            table_q(f'max by (kind, target, district) (ftthnoc_probe_icmp_rtt_seconds{{stat="avg", {PSEL}}})'),
            rename={"Value #A": "損失 / loss", "Value #B": "平均 RTT / avg RTT (s)"}))
        .with_panel(series(
            "TCP 接続時間 / TCP connect time", "SYN to SYN-ACK (or RST) per target and port.",
            q(f"ftthnoc_probe_tcp_connect_seconds{{{PSEL}}}", "{{target}}:{{port}}"), unit="s"))
        .with_panel(states(
            "サービスポート / TCP port up", "1 when the port answered SYN-ACK; refused or silent is down.",
            q(f"ftthnoc_probe_tcp_up{{{PSEL}}}", "{{target}}:{{port}}"), mapping=UP_DOWN))
        .with_row(db.Row("町のサービス / Town services"))
        .with_panel(states(
            "サービスの稼働 / Service up", "1 when the last HTTP check answered as expected (status, body, "
            "verified TLS) or the DNS check was answered NOERROR with the expected records; FtthTownServiceDown "
            "fires after two failed checks in a row.",
            q(both("success"), "{{target}} ({{probe}})"), mapping=UP_DOWN, w=12))
        .with_panel(series(
            "サービスの応答時間 / Service response time", "HTTP: connect to the end of the body; DNS: query to "
            "answer.",
            q(both("duration_seconds"), "{{target}} ({{probe}})"), unit="s", w=12))
        .with_panel(single(
            "証明書の残り日数 / Certificate days left", "Days until the certificate the service presents expires "
            "(the leaf at least); FtthTownCertificateExpiring below 21.",
            q(f"(ftthnoc_probe_tls_cert_expiry_timestamp_seconds{{{SSEL}}} - time()) / 86400", "{{target}}"),
            w=12, unit="d", steps=((None, "red"), (21, "orange"), (30, "green"))))
        .with_panel(series(
            "HTTP の所要時間の内訳 / HTTP time by phase", "The last check's connect, TLS handshake, server "
            "processing (request to response headers) and body transfer, summed over redirects.",
            q(f"ftthnoc_probe_http_phase_seconds{{{SSEL}}}", "{{target}} {{phase}}"), unit="s", w=12,
            stacked=True))
        .with_row(db.Row("プローブの実行 / Probe cycles"))
        .with_panel(probe_cycles())
        .with_panel(probe_cycle_duration())
    )
