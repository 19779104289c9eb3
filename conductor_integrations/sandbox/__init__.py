"""The built-in Conductor-compatible sandbox server for the integrations API."""
