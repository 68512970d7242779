"""Rasa-side code: NLU components, the triage policy and channels (never imports actions)."""
