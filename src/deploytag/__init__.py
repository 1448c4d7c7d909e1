"""DeployTag: one isolated Kubernetes environment per git branch."""

__version__ = "0.1.0"
