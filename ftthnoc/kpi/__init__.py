"""The town's DX KPIs: subscriptions against 7,000, tablets seen, school bandwidth against MEXT's
recommendation, telework, service availability and incidents — as numbers the town can publish."""
