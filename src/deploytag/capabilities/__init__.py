"""One class per pipeline capability (base.py), in one ordered registry (registry.py), run by one
runner (runner.py); they hand results on through typed outputs (outputs.py). Capabilities use
ports and core only, never adapters (import-linter checks)."""
