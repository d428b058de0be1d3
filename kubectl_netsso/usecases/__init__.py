"""Use cases: one module per question, between the CLI (parsing, rendering) and the engines."""
