"""Rasa-side code: NLU components, the triage policy, channels and the tracker store (never imports actions).

Importing any of it makes custom-action calls time out, stay small and fail kindly
(see addons.server.remote_actions): Rasa imports this package when it loads the model, the
channels and the tracker store, before any action runs.
"""

import warnings

from addons.server import remote_actions

remote_actions.install()
# Sanic (loaded with Rasa) asks for every DeprecationWarning once, which floods each command
# with notices from pyparsing, click and pkg_resources that nobody here can act on.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(?!addons|actions|scripts|devstack|bench)")
