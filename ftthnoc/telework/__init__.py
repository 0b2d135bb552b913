"""The telework KPI: how much of the town hall's staff works remotely, against the plan's 30 % target.

The town's plan counts telework as the way office attendance falls by 30 %. The only evidence ftthnoc
sees is the number of remote-access sessions on the VPN gateways (``ftth_vpn_sessions{gateway}``), so
the KPI is built from that count alone, never from who is connected:

- ``calendar`` says which hours are working hours (JST, weekends, public holidays, 年末年始, half-days);
- ``kpi`` turns session samples into a per-day and per-month share of staff working remotely, keeps
  samples and day figures in the inventory database (``models``, migration 0004) and
- ``families`` exposes the figures as gauges.

The exact definition of the KPI is in ``kpi``'s docstring; ``ftthnoc telework report`` prints it.
"""
