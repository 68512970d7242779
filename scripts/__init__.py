"""The commands `make` calls, run as `python -m scripts.<name>`."""
