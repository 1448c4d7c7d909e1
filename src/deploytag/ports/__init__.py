"""Ports: one small Protocol per capability, keyword-only methods, typed records.

Steps depend on these only; adapters implement them. See DESIGN.md "Layers".
"""
