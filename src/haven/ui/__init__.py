"""The UI kit: form base class, view and API helpers, and the shared form templates and includes
(`ui/includes/`, the `ui_kit` template tags) any layer may use."""
