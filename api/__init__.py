"""The API and web pages (a later issue)."""
