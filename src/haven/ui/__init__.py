"""The UI kit: form base class, view helpers and API helpers any layer may use."""
