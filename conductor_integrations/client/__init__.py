"""The Conductor HTTP API: the only layer that imports requests and urllib3; it never prints."""
