"""Rasa-side code: NLU components, the triage policy, channels and the tracker store (never imports actions).

Importing any of it makes custom-action calls time out, stay small and fail kindly
(see addons.server.remote_actions): Rasa imports this package when it loads the model, the
channels and the tracker store, before any action runs.
"""

from addons.server import remote_actions

remote_actions.install()
