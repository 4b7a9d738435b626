"""The knowledge base (human-editable YAML entries) and answer retrieval."""
