"""CLI commands of this area (placeholder: filled in by the area's implementation)."""
from mathwright.cli.apps import app, fail, generate_app, sandbox_app  # noqa: F401
