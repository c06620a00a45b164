"""Use cases of the service: named functions taking a session and keyword-only arguments."""
