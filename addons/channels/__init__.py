"""Project input channels: Rasa's channels with the project's input guard."""
