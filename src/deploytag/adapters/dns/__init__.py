"""DNS providers (entry point group ``deploytag.dns``): Cloudflare, Route53, RFC 2136, PowerDNS.

Each provider is one module; its settings model is in ``settings`` (msgspec only,
composed into ``dns.*`` by the config schema). Nothing here imports an SDK.
"""
