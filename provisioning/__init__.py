"""Provisioning: netmiko drivers and the household and tablet workflows that change devices."""
