"""Provisioning: netmiko drivers and enrolment workflows (a later issue)."""
