"""The Cramp Coach action server package (rasa-sdk only; never imports rasa)."""
