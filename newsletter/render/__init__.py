"""Rendering: a digest becomes HTML (MJML) and plain text once per language; then each
recipient gets a cheap substitution of their own links."""
