"""The documents the rest of ftthnoc reads from a town: the inventory importer's flat document (one list
per table) and the poller's configuration (``ftthnoc.config.Config``), both pointing at the addresses the
town's devices carry (``TownAgents`` gives them the ports its agents really got).

Kept apart from the model so that the model stays plain data and each document's shape is read in one
place; ``Town.inventory_document()`` and ``Town.poller_config()`` call these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.devices import ROUTER_UPLINK, Olt
from simulator.specs import OLT_CLI_AUTH, ROUTER_CLI_AUTH, V2_AUTH_NAME
from simulator.topology import drops, port_splitters

if TYPE_CHECKING:
    from simulator.model import Town


def inventory_document(town: Town) -> dict[str, Any]:
    """The flat inventory document the importer reads (one list per table)."""
    routers = {r.school: r for r in town.school_routers}
    feeds = {(p.olt, p.name): drops(p) for p in town.pon_ports()}
    return {
        "districts": [
            {"code": d.code, "name": d.name, "households": d.households} for d in town.districts
        ],
        "olts": [
            {
                "name": o.name,
                "district": o.district,
                "vendor": o.vendor,
                "model": o.model,
                "address": o.address,
                "pon_class": o.pon_class,
                "auth": o.auth,
                "modules": o.modules,
                "cli_address": town.cli_addresses.get(o.name),
                "cli_auth": OLT_CLI_AUTH if o.name in town.cli_addresses else None,
            }
            for o in town.olts
        ],
        "pon_ports": [{"olt": p.olt, "port": p.name} for p in town.pon_ports()],
        "splitters": [
            {"name": s.name, "olt": s.olt, "pon_port": s.pon_port, "stage": s.stage, "parent": s.parent,
             "ratio": s.ratio, "cabinet": s.cabinet, "lat": None, "lon": None}
            for p in town.pon_ports()
            for s in port_splitters(p)
        ],
        "onus": [
            {
                "serial": u.serial,
                "olt": u.olt,
                "pon_port": u.pon_port,
                "onu_id": u.onu_id,
                "household": u.household,
                # Never a probe address: tests send packets only to loopback and their own
                # namespaces, and a simulated ONU has no management interface to answer on.
                "mgmt_address": None,
                "splitter": feeds[(u.olt, u.pon_port)].get(u.onu_id),
            }
            for u in town.onus()
        ],
        "households": [
            {"code": h.code, "district": h.district, "plan": h.plan, "status": h.status}
            for h in town.households
        ],
        "household_contacts": [
            {"household": c.household, "name": c.name, "address": c.address, "phone": c.phone}
            for c in town.contacts
        ],
        "schools": [
            # no probe address either, for the same reason as the ONUs'
            {
                "code": s.code,
                "name": s.name,
                "district": s.district,
                "pupils": s.pupils,
                "address": None,
                "router_address": town.cli_addresses.get(s.code),
                "router_platform": "yamaha" if s.code in town.cli_addresses else None,
                "router_auth": ROUTER_CLI_AUTH if s.code in town.cli_addresses else None,
                "dhcp_scope": 1 if s.code in town.cli_addresses else None,
                "uplink_target": routers[s.code].name if s.code in routers else None,
                "uplink_interface": ROUTER_UPLINK if s.code in routers else None,
            }
            for s in town.schools
        ],
        "tablets": [
            {
                "school": t.school,
                "asset_no": t.asset_no,
                "serial": t.serial,
                "mac": t.mac,
                "os": t.os,
                "grade": t.grade,
                "class_name": t.class_name,
                "status": "active",
            }
            for t in town.tablets
        ],
        "bwa_stations": [
            {"name": b.name, "district": b.district, "address": b.address, "auth": b.auth, "modules": b.modules}
            for b in town.bwa_stations
        ],
        "vpn_gateways": [
            {
                "name": g.name,
                "vendor": g.vendor,
                "address": g.address,
                "auth": g.auth,
                "modules": g.modules,
                "licence_sessions": g.licence_sessions,
            }
            for g in town.vpn_gateways
        ],
    }


#: Seconds an SNMP request to a simulated agent may take: each agent is a single-threaded Python process
#: sharing the machine with everything else, and on a busy 2-core machine (load 15-20, a test suite beside
#: the demo) it answered in more than 2 s now and then, which failed polls of a healthy town. A real OLT's
#: target keeps the configuration's default (2 s).
SIMULATED_TIMEOUT = 5.0


def poller_config(town: Town, interval_seconds: float = 60) -> dict[str, Any]:
    """The poller's configuration (``ftthnoc.config.Config``): the OLTs, then the BWA stations, the VPN
    gateways and the school routers (small agents, the same request limits)."""
    auths: dict[str, dict[str, Any]] = {V2_AUTH_NAME: {"version": 2, "community": town.community}}
    for u in town.v3_users:
        auths[u.auth_name] = {
            "version": 3,
            "username": u.username,
            "security_level": "authPriv",
            "auth_protocol": u.auth_protocol,
            "password": u.password,
            "priv_protocol": u.priv_protocol,
            "priv_password": u.priv_password,
        }
    targets = [
        {
            "name": o.name,
            "address": o.address,
            "modules": o.modules,
            "auth": o.auth,
            "pon_class": o.pon_class,
            "max_repetitions": 25,
            "timeout": SIMULATED_TIMEOUT,
            "retries": 1,
            "concurrency": 2,
        }
        for o in town.olts
    ]
    targets += [
        {
            "name": d.name,
            "address": d.address,
            "modules": d.modules,
            "auth": d.auth,
            "max_repetitions": 25,
            "timeout": SIMULATED_TIMEOUT,
            "retries": 1,
            "concurrency": 2,
        }
        for d in town.devices()
        if not isinstance(d, Olt)
    ]
    return {"auths": auths, "targets": targets, "interval_seconds": interval_seconds}
