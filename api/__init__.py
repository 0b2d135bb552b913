"""The API and web pages: inventory, state, incidents, KPIs and audit over HTTP, for people and Grafana."""
